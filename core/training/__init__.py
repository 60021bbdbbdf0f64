"""Training: fitting one family (:mod:`.fitting`), Optuna tuning (in process, :mod:`.tuning`, or
worker processes on a shared study in a database, :mod:`.tuning_workers`), the ensemble, the
distilled student, the pipeline that runs a whole session (:mod:`.pipeline`), progress reports
and seeding.

Imports :mod:`core.tracking` and below. ``fitting`` is the step the others share; ``tuning_workers``
builds on ``tuning``; the pipeline (and ``tune-worker`` of the CLI) call them.
"""
