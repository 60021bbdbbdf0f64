"""Where the project's files live: the shared read-only data and the git-ignored folders it writes."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = PROJECT_ROOT.parent / "shared"
DEFAULT_DATA_PATH = SHARED_DIR / "data" / "sentiment140" / "sentiment140_train_subset.csv"
DEFAULT_NLTK_DATA = SHARED_DIR / "nltk_data"
DEFAULT_HUMAN_DIR = SHARED_DIR / "data" / "human_dev"
DEFAULT_STORE_DIR = PROJECT_ROOT / ".mlflow"
DEFAULT_CACHE_DIR = PROJECT_ROOT / ".cache"
DEFAULT_REPORTS_DIR = PROJECT_ROOT / "reports"
DEFAULT_EVENT_DB = PROJECT_ROOT / ".data" / "feedback.db"
