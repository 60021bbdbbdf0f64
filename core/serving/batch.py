"""Batch scoring: a file of tweets (CSV or parquet) in, the same rows with the model's answer out.

Read and written chunk by chunk (``chunk_rows`` rows at a time: memory stays bounded whatever the
file's size), scored through a registered model's pyfunc (``mlflow.pyfunc`` ``predict``, the same
function ``mlflow models serve`` and Spark's ``spark_udf`` call), with a progress bar. The output
keeps every input column and adds ``predicted_label`` and ``probability_negative``; it is written
to a temporary file beside the target and moved into place only once every row is scored, so a
failure never leaves half a file, and an existing output is kept unless ``overwrite``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from core.errors import ConfigError, DataError

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
OUTPUT_COLUMNS = ("predicted_label", "probability_negative")
DEFAULT_CHUNK_ROWS = 10_000

Scorer = Callable[[list[str]], pd.DataFrame]
"""Raw tweets in, a frame with ``label`` and ``probability_negative`` out (a pyfunc's ``predict``)."""


@dataclasses.dataclass(frozen=True)
class ScoreReport:
    """What one scoring run did."""

    rows: int
    output: Path | str
    """The file written (a URI on Spark)."""
    seconds: float

    @property
    def tweets_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


def file_format(path: Path, role: str) -> str:
    """``csv`` or ``parquet`` from the file's suffix.

    Raises:
        DataError: another suffix.
    """
    try:
        return FORMATS[Path(path).suffix.lower()]
    except KeyError:
        raise DataError(
            f"{role} file {path}: unknown format '{Path(path).suffix}' (use {', '.join(sorted(FORMATS))})."
        ) from None


def count_rows(path: Path) -> int:
    """Data rows of a CSV or parquet file, read as a stream (parquet: from its footer)."""
    if file_format(path, "input") == "parquet":
        return _parquet_file(path).metadata.num_rows
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"input file {path}: not a readable UTF-8 CSV file ({exc}).") from None


def read_chunks(path: Path, text_column: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file's rows, ``chunk_rows`` at a time, every column as read (CSV: all as text).

    Raises:
        DataError: the file is missing, malformed, or has no ``text_column`` (the message names the file,
            and the columns it has).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"input file {path} does not exist.")
    if file_format(path, "input") == "parquet":
        parquet = _parquet_file(path)
        _check_column(path, text_column, parquet.schema_arrow.names)
        try:
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"input file {path}: malformed parquet data ({exc}).") from None
        return
    try:
        reader = pd.read_csv(path, chunksize=chunk_rows, dtype=str, keep_default_na=False, encoding="utf-8")
        with reader:
            for index, chunk in enumerate(reader):
                if index == 0:
                    _check_column(path, text_column, list(chunk.columns))
                yield chunk
    except pd.errors.EmptyDataError:
        expected = f"a CSV file with a header row and a '{text_column}' column is expected"
        raise DataError(f"input file {path} is empty: {expected}.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise DataError(f"input file {path}: malformed CSV ({detail}).") from None


def _parquet_file(path: Path) -> pq.ParquetFile:
    if not Path(path).is_file():
        raise DataError(f"input file {path} does not exist.")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"input file {path}: not a parquet file ({exc}).") from None


def _check_column(path: Path, column: str, columns: list[str]) -> None:
    if column not in columns:
        raise DataError(
            f"input file {path} has no '{column}' column (it has: {', '.join(map(str, columns)) or 'none'}); "
            "name the tweets' column with --text-column."
        )


class _ChunkWriter:
    """Appends scored chunks to a temporary file; ``commit`` moves it onto the target."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        self.format = file_format(self.target, "output")
        self.temporary = self.target.with_name(f".{self.target.name}.{os.getpid()}.partial")
        self._parquet: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.format == "csv":
            frame.to_csv(self.temporary, mode="a", header=self.rows == 0, index=False)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.temporary, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self.rows += len(frame)

    def commit(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        elif self.rows == 0:  # no data row: still a valid file with the output columns
            pd.DataFrame(columns=list(OUTPUT_COLUMNS)).to_csv(self.temporary, index=False)
        os.replace(self.temporary, self.target)

    def discard(self) -> None:
        if self._parquet is not None:
            with contextlib.suppress(Exception):
                self._parquet.close()
        self.temporary.unlink(missing_ok=True)


def score_file(
    scorer: Scorer,
    input_path: Path,
    output_path: Path,
    text_column: str = "text",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    overwrite: bool = False,
    progress: bool = True,
) -> ScoreReport:
    """Score every row of ``input_path`` into ``output_path`` (formats from the suffixes).

    Raises:
        DataError: bad input (see :func:`read_chunks`), an output that exists without ``overwrite``, an output
            in the input's place, or an unknown output format. Nothing is written then.
        ConfigError: ``chunk_rows`` below 1.
    """
    if chunk_rows < 1:
        raise ConfigError(f"--chunk-size must be at least 1, got {chunk_rows}.")
    input_path, output_path = Path(input_path), Path(output_path)
    file_format(output_path, "output")
    if output_path.resolve() == input_path.resolve():
        raise DataError(f"output file {output_path} is the input file: choose another path.")
    if output_path.exists() and not overwrite:
        raise DataError(f"output file {output_path} exists: choose another path or pass --overwrite.")
    if not output_path.parent.is_dir():
        raise DataError(f"output folder {output_path.parent} does not exist.")
    total = count_rows(input_path) if input_path.is_file() else None
    writer = _ChunkWriter(output_path)
    start = time.perf_counter()
    bar = tqdm(total=total, unit="tweet", desc="scoring", disable=not progress)
    try:
        for chunk in read_chunks(input_path, text_column, chunk_rows):
            clash = [c for c in OUTPUT_COLUMNS if c in chunk.columns]
            if clash:
                raise DataError(f"input file {input_path} already has the output column(s) {', '.join(clash)}.")
            texts = chunk[text_column].fillna("").astype(str).tolist()
            scored = scorer(texts) if texts else pd.DataFrame({"label": [], "probability_negative": []})
            chunk = chunk.assign(
                predicted_label=list(scored["label"]),
                probability_negative=[float(p) for p in scored["probability_negative"]],
            )
            writer.write(chunk)
            bar.update(len(chunk))
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    finally:
        bar.close()
    return ScoreReport(rows=writer.rows, output=output_path, seconds=time.perf_counter() - start)
