"""Regenerate the model card (``docs/model_card.md``) from the champion's MLflow run.

Usage: ``.venv/bin/python -m scripts.model_card [--tracking-uri URI] [--version N] [--output docs/model_card.md]``
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from core.config import PROJECT_ROOT, TrackingConfig
from core.errors import CoreError
from core.serving.model_card import write_model_card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", help="MLflow URI (default: $MLFLOW_TRACKING_URI, else .mlflow/)")
    parser.add_argument("--version", help="registered version (default: the champion)")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "docs" / "model_card.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        path = write_model_card(TrackingConfig(tracking_uri=args.tracking_uri), args.output, version=args.version)
    except CoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
