"""Air Paradise tweet sentiment: data, preprocessing, models, training, evaluation, MLflow.

Importing ``core`` has no side effects: no folders, no MLflow URI, no seeding, no downloads.
"""

__version__ = "0.1.0"
