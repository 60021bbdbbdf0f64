"""Serving: the :class:`~core.serving.predictor.Predictor` the API and the CLI call (a registered
version loaded on a runtime, predictions and explanations), and typed environment reads.

Imports :mod:`core.tracking`, :mod:`core.explanations` and below; never training code.
"""
