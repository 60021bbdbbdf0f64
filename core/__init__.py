"""Air Paradise tweet sentiment: everything that knows about data and models.

One subpackage per concern, layered (each imports only the ones below it; checked by
``tests/test_architecture.py``)::

    retraining                  the feedback loop: challenger vs champion
    training | monitoring       fitting, tuning, ensemble, pipeline | event store, alerts, drift
    serving                     the Predictor the API and the CLI call
    tracking | explanations     MLflow runs, registry, pyfunc | why a tweet got its label
    models                      the families behind one interface, the saved classifier
    evaluation                  metrics, calibration, behavioural checks
    data                        loading, cleaning, preprocessing, split, prepared data
    config                      every training setting, typed; profiles; ``--set``

The entry points are ``cli`` (``python -m core``) and ``errors`` (the project's exceptions).
Importing ``core`` has no side effects: no folders, no MLflow URI, no seeding, no downloads.
"""

__version__ = "0.4.0"
