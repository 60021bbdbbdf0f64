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


def artifact_root(tracking_uri: str) -> str | None:
    """Where experiments created on this store keep their artifacts: an ``artifacts`` folder beside
    an embedded SQLite database; ``None`` for other stores (the server's or MLflow's default)."""
    if tracking_uri.startswith("sqlite:///"):
        return (Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
    return None
