"""Evaluation: metrics and thresholds, probability calibration, and the behavioural checks
(negation, emojis, URLs, @mentions).

Imports :mod:`core.config` and :mod:`core.errors` only; the behavioural checks take any object with
``predict_proba``.
"""
