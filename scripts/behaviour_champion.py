"""Behavioural suite against a registered model (not a test): default the champion.

Prints each capability's pass rate (:mod:`core.evaluation.behaviour`) and every failing case, so the
champion's failures can be listed in the notes. Uses the model as served (calibrated P(negative),
its threshold).

    .venv/bin/python -m scripts.behaviour_champion                 # the champion of the default store
    .venv/bin/python -m scripts.behaviour_champion --version 3
    .venv/bin/python -m scripts.behaviour_champion --tracking-uri sqlite:////path/mlflow.db
"""

from __future__ import annotations

import argparse
import logging
import sys

from core.config import TrackingConfig
from core.errors import CoreError
from core.evaluation.behaviour import run_behaviour
from core.serving.predictor import Predictor


def main() -> int:
    """Parse arguments, load the model, print the report; 2 on a user error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="registered version (default: the champion)")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else .mlflow/)")
    parser.add_argument("--tolerance", type=float, default=0.1, help="allowed P(negative) move (default 0.1)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        predictor = Predictor(TrackingConfig(tracking_uri=args.tracking_uri), version=args.version)
    except CoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    classifier = predictor.classifier
    report = run_behaviour(classifier.predict_proba, classifier.threshold, args.tolerance)
    info = predictor.info
    print(f"model v{info.version}: {info.family}-{info.preprocessing}, threshold {classifier.threshold:.3f}")
    for name, rate in report.pass_rates.items():
        print(f"{name:<20} {rate:6.2f}")
    print(f"{'overall':<20} {report.overall:6.2f}")
    for name, failed in report.failures.items():
        for line in failed:
            print(f"FAIL {name}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
