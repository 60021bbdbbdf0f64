"""Retraining: the improvement loop that trains a challenger with the tweets users flagged and
promotes it only if it beats the champion.

The top layer of :mod:`core`: imports training, monitoring's event store and serving.
"""
