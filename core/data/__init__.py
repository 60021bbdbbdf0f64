"""Data: loading the tweets (Sentiment140, ``twitter_samples``), cleaning, preprocessing variants,
the leakage-free split, label-noise remedies and the prepared data of a session.

Imports :mod:`core.config` and :mod:`core.errors` only.
"""
