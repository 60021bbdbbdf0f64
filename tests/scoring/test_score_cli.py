"""``python -m core score``: a CSV or parquet file of tweets scored through the registered champion's
pyfunc, chunk by chunk, into CSV or parquet; every row kept with its answer; bad input is one clear
error and writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.serving.batch import read_chunks
from core.serving.predictor import Predictor

TWEETS = [
    "my flight was delayed again and they lost my bag",
    "great crew, smooth landing, thank you!",
    "worst airline ever, never again",
    "loved the legroom and the free snacks",
    "",
    'she said "the gate changed" — twice',
] * 5


def tweets_frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [f"t{i}" for i in range(len(TWEETS))], "tweet": TWEETS})


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("source", "target"), [("csv", "parquet"), ("parquet", "csv")])
def test_scoring_keeps_every_row_and_matches_the_champion(
    tracking, tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, target: str
) -> None:
    frame = tweets_frame()
    given, scored = tmp_path / f"tweets.{source}", tmp_path / f"scored.{target}"
    frame.to_csv(given, index=False) if source == "csv" else frame.to_parquet(given, index=False)
    argv = ["score", "--input", str(given), "--output", str(scored), "--text-column", "tweet", "--chunk-size", "7"]
    code, out, err = run([*argv, "--tracking-uri", tracking.resolved_uri()], capsys)
    assert code == 0, err
    assert f"{len(TWEETS)} tweets scored" in out
    assert "scoring: 100%" in err and f"{len(TWEETS)}/{len(TWEETS)}" in err  # the progress bar, with its total

    result = pd.read_parquet(scored) if target == "parquet" else pd.read_csv(scored, keep_default_na=False)
    assert list(result.columns) == ["id", "tweet", "predicted_label", "probability_negative"]
    assert list(result["id"]) == list(frame["id"]) and list(result["tweet"]) == TWEETS
    expected = Predictor(tracking).predict([t for t in TWEETS])
    assert list(result["predicted_label"]) == [p.label for p in expected]
    assert list(result["probability_negative"]) == pytest.approx([p.probability_negative for p in expected])
    assert not list(tmp_path.glob(".*partial"))  # the temporary file was moved into place


def test_the_file_is_read_in_chunks_of_the_given_size(tmp_path: Path) -> None:
    given = tmp_path / "tweets.parquet"
    tweets_frame().to_parquet(given, index=False)
    assert [len(chunk) for chunk in read_chunks(given, "tweet", 7)] == [7, 7, 7, 7, 2]
    csv_file = tmp_path / "tweets.csv"
    tweets_frame().to_csv(csv_file, index=False)
    assert [len(chunk) for chunk in read_chunks(csv_file, "tweet", 8)] == [8, 8, 8, 6]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('id,text\n1,"fine flight\n2,lost bag\n', "malformed CSV"),  # an unclosed quote
        ("id,text\n1,ok\n2,too,many,fields\n", "malformed CSV"),
        ("", "is empty"),
        ("id,tweet\n1,hello\n", "has no 'text' column (it has: id, tweet)"),
    ],
)
def test_a_malformed_csv_is_one_clear_error_and_writes_nothing(
    tracking, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    given, scored = tmp_path / "bad.csv", tmp_path / "scored.csv"
    given.write_text(content)
    code, _, err = run(
        ["score", "--input", str(given), "--output", str(scored), "--tracking-uri", tracking.resolved_uri()], capsys
    )
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0] and str(given) in errors[0], err
    assert "Traceback" not in err
    assert not scored.exists() and not list(tmp_path.glob(".*partial"))


def test_bad_paths_and_formats_are_refused_before_scoring(
    tracking, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = tmp_path / "tweets.csv"
    tweets_frame().rename(columns={"tweet": "text"}).to_csv(given, index=False)
    not_parquet = tmp_path / "fake.parquet"
    not_parquet.write_text("this is not parquet")
    existing = tmp_path / "kept.csv"
    existing.write_text("precious\n")
    uri = ["--tracking-uri", tracking.resolved_uri()]
    cases = [
        (["--input", str(tmp_path / "missing.csv"), "--output", str(tmp_path / "o.csv")], "does not exist"),
        (["--input", str(not_parquet), "--output", str(tmp_path / "o.csv")], "not a parquet file"),
        (["--input", str(given), "--output", str(tmp_path / "o.json")], "unknown format '.json'"),
        (["--input", str(given), "--output", str(existing)], "exists: choose another path or pass --overwrite"),
        (["--input", str(given), "--output", str(given), "--overwrite"], "is the input file"),
    ]
    for args, message in cases:
        code, _, err = run(["score", *args, *uri], capsys)
        assert code == 2 and message in err and "Traceback" not in err, (args, err)
    assert existing.read_text() == "precious\n"  # never overwritten without --overwrite
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.json").exists()


def test_the_installed_entry_points_run(tracking, tmp_path: Path) -> None:
    """``pip install -e .`` put ``air-paradise`` and ``air-paradise-stack`` beside the interpreter."""
    bin_dir = Path(sys.executable).parent
    given, scored = tmp_path / "tweets.csv", tmp_path / "scored.csv"
    tweets_frame().to_csv(given, index=False)
    command = [str(bin_dir / "air-paradise"), "score", "--input", str(given), "--output", str(scored)]
    command += ["--text-column", "tweet", "--tracking-uri", tracking.resolved_uri()]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(pd.read_csv(scored)) == len(TWEETS)
    stack = subprocess.run([str(bin_dir / "air-paradise-stack"), "--help"], capture_output=True, text=True, timeout=120)
    assert stack.returncode == 0 and "--api-port" in stack.stdout, stack.stderr
