"""Training: fitting one family (:mod:`.fitting`), Optuna tuning and the ensemble built on it, the
pipeline that runs a whole session (:mod:`.pipeline`), progress reports and seeding.

Imports :mod:`core.tracking` and below. ``fitting`` is the step the others share; only
``pipeline`` imports ``tuning`` and ``ensemble``.
"""
