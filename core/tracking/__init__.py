"""MLflow: tracking set-up, logging a classifier as a pyfunc model, the registry and its
``champion`` alias, the champion's logged settings, the run catalog, the comparison table and the
diagnostic curves.

Imports :mod:`core.models` and below; never training, serving or monitoring.
"""
