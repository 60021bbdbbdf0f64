"""The TF-IDF baseline meets the family contract on the easy fixture."""

from pathlib import Path

from core.config import TfidfConfig
from tests.fixtures import write_easy_csv
from tests.models.contract import check_family


def test_tfidf_meets_contract(tmp_path: Path) -> None:
    data = write_easy_csv(tmp_path / "easy.csv", n=400)
    result = check_family("tfidf", TfidfConfig(min_df=1), data, tmp_path)
    assert result.metrics["test_roc_auc"] > 0.95
