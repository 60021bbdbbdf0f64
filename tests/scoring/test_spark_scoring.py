"""``air-paradise score --spark``: the registered champion scored through ``mlflow.pyfunc.spark_udf`` on a local
Spark session (``local[2]``) gives the in-process scorer's answer on the same file, row for row, for CSV and
parquet input; a bad request is one clear error line, no traceback, nothing written.

One session serves the module (a JVM takes ~10 s to start here); the command line finds it active and scores
on it, as it would inside a notebook or under ``spark-submit``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.errors import ResourceError
from core.serving.spark_scoring import SparkScoringConfig, java_executable, spark_session

pytestmark = pytest.mark.slow

TWEETS = [
    "my flight was delayed again and they lost my bag",
    "great crew, smooth landing, thank you!",
    "worst airline ever, never again",
    "loved the legroom and the free snacks",
    "",
    'she said "the gate changed" — twice',
    "two lines:\nboarding at 6, gone at 9 😡",
] * 5


def tweets_frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [f"t{i}" for i in range(len(TWEETS))], "tweet": TWEETS})


def read_output(path: Path) -> pd.DataFrame:
    """A file or a Spark folder of part files, every value as the in-process CSV/parquet reader gives it."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)  # a folder reads as one table, part files in name order
    if path.is_dir():
        parts = sorted(path.glob("part-*.csv"))
        return pd.concat([pd.read_csv(p, keep_default_na=False, dtype=str) for p in parts], ignore_index=True)
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def spark():
    """A local[2] session bound to 127.0.0.1, UI off, batches of 8 rows to the model."""
    # pyspark is pinned and .ci/run installs a JRE: a missing one fails here, it is never skipped
    assert os.environ.get("JAVA_HOME") or any(Path(p, "java").exists() for p in os.get_exec_path()), "no Java"
    with spark_session(SparkScoringConfig(master="local[2]", batch_rows=8)) as session:
        yield session


def test_the_local_session_stays_on_loopback_and_downloads_nothing(spark) -> None:
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.host") == "127.0.0.1" and conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false" and spark.sparkContext.uiWebUrl is None
    assert not conf.get("spark.jars.packages", "") and not conf.get("spark.jars.repositories", "")
    assert spark.sparkContext.master == "local[2]" and spark.sparkContext.defaultParallelism == 2


@pytest.mark.parametrize(
    ("source", "target", "single_file"),
    [("csv", "parquet", False), ("parquet", "csv", True), ("csv", "csv", False)],
    ids=["csv-to-parquet-folder", "parquet-to-one-csv", "csv-to-csv-folder"],
)
def test_spark_scores_like_the_in_process_scorer(
    spark, tracking, tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, target: str, single_file: bool
) -> None:
    given = tmp_path / f"tweets.{source}"
    frame = tweets_frame()
    frame.to_csv(given, index=False) if source == "csv" else frame.to_parquet(given, index=False)
    uri = ["--tracking-uri", tracking.resolved_uri(), "--text-column", "tweet"]
    in_process, on_spark = tmp_path / f"in_process.{target}", tmp_path / f"spark.{target}"
    code, _, err = run(["score", "--input", str(given), "--output", str(in_process), *uri], capsys)
    assert code == 0, err
    spark_args = ["--spark", "--spark-master", "local[2]", *(["--single-file"] if single_file else [])]
    code, out, err = run(["score", *spark_args, "--input", str(given), "--output", str(on_spark), *uri], capsys)
    assert code == 0, err
    assert (
        f"{len(TWEETS)} tweets scored with models:/air-paradise-sentiment/" in out and "2 tasks on local[2]" in out
    ), out

    assert on_spark.is_file() == single_file  # else Spark's folder of part files, one per task
    if not single_file:
        assert (on_spark / "_SUCCESS").exists() and len(list(on_spark.glob("part-*"))) == 2
    expected, result = read_output(in_process), read_output(on_spark)
    assert list(result.columns) == ["id", "tweet", "predicted_label", "probability_negative"]
    assert list(result["id"]) == list(frame["id"]) and list(result["tweet"]) == TWEETS  # every row, in order
    assert list(result["predicted_label"]) == list(expected["predicted_label"])
    assert set(result["predicted_label"]) == {"negative", "positive"}
    assert [float(p) for p in result["probability_negative"]] == pytest.approx(
        [float(p) for p in expected["probability_negative"]], abs=1e-6
    )
    assert not list(tmp_path.glob(".*partial"))  # the staged output was moved into place


def test_a_bad_request_is_one_clear_error_and_writes_nothing(
    spark, tracking, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = tmp_path / "tweets.csv"
    tweets_frame().to_csv(given, index=False)  # the tweets are in 'tweet', not the default 'text'
    malformed = tmp_path / "malformed.csv"
    malformed.write_text("id,text\n1,ok\n2,too,many,fields\n")
    scored = tmp_path / "scored.parquet"
    uri = ["--tracking-uri", tracking.resolved_uri()]
    cases = [
        (["--input", str(given)], f"input file {given} has no 'text' column (it has: id, tweet)"),
        (["--input", str(tmp_path / "missing.csv")], "does not exist"),
        (["--input", str(malformed)], "malformed CSV (Malformed CSV record: 2,too,many,fields)"),
        (["--input", str(given), "--text-column", "tweet", "--version", "999"], "Cannot load"),
    ]
    for args, message in cases:
        code, _, err = run(["score", "--spark", *args, "--output", str(scored), *uri], capsys)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1 and message in errors[0], (args, err)
        assert "Traceback" not in err
        assert not scored.exists() and not list(tmp_path.glob(".*partial")), args
    code, _, err = run(["score", "--single-file", "--input", str(given), "--output", str(scored), *uri], capsys)
    assert code == 2 and "--single-file is for --spark" in err


def test_without_java_the_error_names_the_remedy(tracking, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(ResourceError, match="apt-get install openjdk-17-jre-headless"):
        java_executable()
    given = tmp_path / "tweets.csv"
    tweets_frame().to_csv(given, index=False)
    command = [sys.executable, "-m", "core", "score", "--spark", "--input", str(given)]
    command += ["--output", str(tmp_path / "scored.parquet"), "--tracking-uri", tracking.resolved_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: Spark needs a Java 17+ runtime and JAVA_HOME={tmp_path}")
    )
    assert "openjdk-17-jre-headless" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "scored.parquet").exists()
