"""Batch scoring on Spark: the same answer as :mod:`core.serving.batch`, spread over a Spark session's cores.

A CSV or parquet file (or a folder of them) is read by Spark, each row's tweet is scored by the
registered model's pyfunc through ``mlflow.pyfunc.spark_udf`` (``env_manager="local"``: the executors
use the Python environment they run in, which must install the model's pip requirements), and the
rows are written back by Spark with every input column plus ``predicted_label`` and
``probability_negative``, as the in-process scorer writes them.

What ``output`` is: Spark writes a *folder* of part files (``part-00000-….parquet``, … and a
``_SUCCESS`` marker) at the given path, readable as one table by Spark, ``pandas.read_parquet`` or
``pyarrow.dataset``; part files follow the input's row order. With ``single_file`` the rows are
gathered (in input order) into one file at that path instead: one task writes it, so it is for
outputs that fit on the driver's disk. On a local master the output is staged beside the target
and moved into place only when every row is scored (a failure writes nothing, as in-process);
on a cluster Spark's own commit protocol writes to the given URI (``s3a://``, ``abfss://``, ``dbfs:/``).

A local session binds to 127.0.0.1, keeps its UI off and downloads nothing (no ``spark.jars.packages``).
Imports :mod:`core.tracking` and :mod:`core.serving.batch`; pyspark is imported only when a session starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.config import DEFAULT_NLTK_DATA, TrackingConfig
from core.errors import ConfigError, DataError, ModelNotFoundError, ResourceError
from core.serving.batch import DEFAULT_CHUNK_ROWS, OUTPUT_COLUMNS, ScoreReport, file_format
from core.tracking.registry import model_uri
from core.tracking.setup import configure_tracking

if TYPE_CHECKING:  # pyspark is optional: imported when a session starts
    from pyspark.sql import DataFrame, SparkSession

logger = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2]"
PYSPARK_PIN = "pyspark==4.3.0"
RESULT_TYPE = "label string, probability_negative double"
"""The UDF's struct: the two columns of the model's signature (see :mod:`core.tracking.pyfunc_model`)."""
_ROW = "__air_paradise_row"
"""Input position of each row (``monotonically_increasing_id``): keeps the input's order when rows move."""

_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{HH:mm:ss}} %p %c{{1}}: %m%n
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = {level}
"""
"""The JVM's logging: quiet unless verbose (Spark logs failed tasks with their Java and Python stacks). The root
level stays at Spark's shell default (WARN), or Spark prints a note on changing it; the appender's filter quiets."""


@dataclasses.dataclass(frozen=True)
class SparkScoringConfig:
    """How a Spark scoring run is set up.

    Attributes:
        master: Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``, ...). ``None``: the session
            already active (a notebook, ``spark-submit``), else :data:`DEFAULT_MASTER`.
        batch_rows: rows handed to the model's ``predict`` at a time (Arrow batches of the UDF).
        single_file: one output file at the output path instead of a folder of part files.
        verbose: let Spark's own warnings through to stderr.
    """

    master: str | None = None
    batch_rows: int = DEFAULT_CHUNK_ROWS
    single_file: bool = False
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.batch_rows < 1:
            raise ConfigError(f"--chunk-size must be at least 1, got {self.batch_rows}.")
        if self.master is not None and not self.master.strip():
            raise ConfigError("--spark-master must not be empty.")


@dataclasses.dataclass(frozen=True)
class SparkScoreReport(ScoreReport):
    """What one Spark scoring run did (``output`` is a URI; ``seconds``: reading, scoring and writing,
    not the session's start)."""

    partitions: int
    """Tasks that scored the rows."""
    master: str
    """The session's master URL (``local[2]``, ``yarn``, ...)."""


def java_executable() -> str:
    """The ``java`` a local Spark session will start: ``$JAVA_HOME/bin/java``, else the one on ``PATH``.

    Raises:
        ResourceError: no Java runtime (the message names the remedy).
    """
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if candidate and os.access(candidate, os.X_OK):
        return candidate
    where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no 'java' on PATH"
    raise ResourceError(
        f"Spark needs a Java 17+ runtime and {where}: install one (Debian/Ubuntu: apt-get install "
        "openjdk-17-jre-headless) or point JAVA_HOME at one, or score in-process without --spark."
    )


def _import_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ResourceError(
            f"--spark needs pyspark, which this environment does not install: pip install {PYSPARK_PIN}"
        ) from None


def _quiet_python_side() -> None:
    # pyspark 4.3 warns on every pandas 3 import; the UDF path used here is checked by the tests.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    logging.getLogger("py4j").setLevel(logging.WARNING)


@contextlib.contextmanager
def spark_session(config: SparkScoringConfig) -> Iterator[SparkSession]:
    """A Spark session for scoring, stopped at the end if this function started it.

    A local master binds to 127.0.0.1 with the UI off and its Python workers on this interpreter.

    Raises:
        ResourceError: pyspark or Java is missing, or the JVM does not start.
    """
    _import_pyspark()
    _quiet_python_side()
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:  # a notebook's or a caller's session: used as it is, left running
        if config.master and config.master != active.conf.get("spark.master", None):
            logger.warning("--spark-master %s ignored: scoring on the active session", config.master)
        yield active
        return
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started the JVM and chose the master
    master = config.master or (None if under_submit else DEFAULT_MASTER)
    builder = SparkSession.builder.appName("air-paradise-score")
    builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", str(config.batch_rows))
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    with tempfile.TemporaryDirectory(prefix="air-paradise-spark-") as scratch:
        if master is not None:
            builder = builder.master(master)
        if master is not None and master.startswith("local"):
            java_executable()
            os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # read by the JVM before any setting
            # The Python workers run this interpreter (env_manager="local": the model's requirements are here);
            # pyspark reads the variable, not spark.pyspark.python, when it starts the JVM itself.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            log4j = Path(scratch) / "log4j2.properties"
            log4j.write_text(_LOG4J.format(level="warn" if config.verbose else "fatal"))
            for key, value in {
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.ui.enabled": "false",
                "spark.pyspark.python": sys.executable,
                "spark.pyspark.driver.python": sys.executable,
                "spark.local.dir": scratch,
                "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j.as_uri()}",
            }.items():
                builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except (PySparkException, OSError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ResourceError(
                f"Spark did not start ({detail}): check that Java 17+ is installed "
                "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
            ) from None
        session.sparkContext.setLogLevel("WARN" if config.verbose else "FATAL")
        try:
            yield session
        finally:
            session.stop()


def resolve_model(config: TrackingConfig, alias: str | None = None, version: str | None = None) -> tuple[str, str]:
    """The registered version to score with, without loading it: ``(models:/name/N, N)``.

    An alias is resolved to its version first (as :class:`~core.serving.predictor.Predictor` does), so every
    executor loads the same weights even if the alias moves during the run.

    Raises:
        ModelNotFoundError: the alias is unset or the version does not exist, or its signature is not a
            tweet sentiment model's.
    """
    tracking_uri = configure_tracking(config)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    name = config.registered_model
    try:
        if version:
            version = str(client.get_model_version(name, version).version)
        else:
            version = str(client.get_model_version_by_alias(name, alias or config.champion_alias).version)
    except MlflowException as exc:
        raise ModelNotFoundError(
            f"Cannot load {model_uri(config, alias, version)}: {exc.message.splitlines()[0].rstrip('.')}. "
            "Train one first: python -m core train --profile quick"
        ) from None
    uri = model_uri(config, version=version)
    _check_signature(uri)
    return uri, version


def _check_signature(uri: str) -> None:
    import mlflow.models

    signature = mlflow.models.get_model_info(uri).signature
    outputs = {c.name for c in signature.outputs.inputs} if signature and signature.outputs else set()
    if not {"label", "probability_negative"} <= outputs:
        raise ModelNotFoundError(
            f"{uri} is not a tweet sentiment model: its signature gives {sorted(outputs) or 'nothing'}, "
            "not 'label' and 'probability_negative'."
        )


def _is_local(spark: SparkSession) -> bool:
    return spark.conf.get("spark.master", "").startswith("local")


def _local_path(location: str) -> Path | None:
    """The filesystem path of a local location (plain or ``file:``), ``None`` for a remote URI."""
    if location.startswith("file:"):
        return Path(location.removeprefix("file:").removeprefix("//"))
    return None if "://" in location or location.startswith("dbfs:") else Path(location)


def read_tweets(spark: SparkSession, location: str, text_column: str) -> DataFrame:
    """A CSV (with a header; every column as text, as the in-process scorer reads it) or parquet file or folder.

    Raises:
        DataError: a missing or unreadable input, an empty CSV, no ``text_column``, or input that already has
            an output column.
    """
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    kind = file_format(Path(location), "input")
    local = _local_path(location) if _is_local(spark) else None  # on a cluster a bare path is its filesystem's
    if local is not None and not local.exists():
        raise DataError(f"input file {location} does not exist.")
    if local is not None and local.is_file() and local.stat().st_size == 0 and kind == "csv":
        expected = f"a CSV file with a header row and a '{text_column}' column is expected"
        raise DataError(f"input file {location} is empty: {expected}.")
    path = str(local.resolve()) if local is not None else location
    reader = spark.read
    if kind == "csv":  # RFC 4180 as pandas writes it: doubled quotes, quoted newlines; a bad row is an error
        reader = reader.options(header=True, multiLine=True, escape='"', mode="FAILFAST", encoding="UTF-8")
    try:
        frame = reader.format(kind).load(path)
        columns = frame.columns
    except (PySparkException, Py4JError, OSError) as exc:
        raise DataError(f"input file {location}: not a readable {kind} input ({_first_line(exc)}).") from None
    if text_column not in columns:
        raise DataError(
            f"input file {location} has no '{text_column}' column (it has: {', '.join(columns) or 'none'}); "
            "name the tweets' column with --text-column."
        )
    clash = [c for c in OUTPUT_COLUMNS if c in columns]
    if clash:
        raise DataError(f"input file {location} already has the output column(s) {', '.join(clash)}.")
    if kind == "csv":  # Spark reads an empty field as null; in-process (and pandas' keep_default_na=False): ""
        from pyspark.sql import functions as F

        frame = frame.select([F.coalesce(F.col(f"`{c}`"), F.lit("")).alias(c) for c in columns])
    return frame


def score_frame(spark: SparkSession, frame: DataFrame, uri: str, text_column: str) -> tuple[DataFrame, int]:
    """``frame`` with ``predicted_label`` and ``probability_negative``, in the input's order, and its partitions.

    A file smaller than Spark's split size is one partition: it is spread over the session's cores by
    ranges of row positions first, so every core scores and part files keep the input's order. On a local
    master (and on NFS-backed clusters) mlflow's UDF loads the model once per task, a fixed cost per partition.
    """
    import mlflow.pyfunc
    from pyspark.sql import functions as F

    columns = [F.col(f"`{c}`") for c in frame.columns]
    frame = frame.withColumn(_ROW, F.monotonically_increasing_id())
    partitions = frame.rdd.getNumPartitions()
    cores = spark.sparkContext.defaultParallelism
    if partitions < cores:
        frame = frame.repartitionByRange(cores, _ROW).sortWithinPartitions(_ROW)
        partitions = cores
    # The model's own copy of ``core`` (its code_paths) does not know where this project keeps NLTK's data.
    nltk_data = os.environ.get("NLTK_DATA") or (str(DEFAULT_NLTK_DATA) if DEFAULT_NLTK_DATA.is_dir() else None)
    with _quiet_loggers("mlflow.pyfunc", "mlflow.models.flavor_backend_registry"):
        # mlflow.pyfunc warns that env_manager="local" does not rebuild the training environment: the choice here
        predict = mlflow.pyfunc.spark_udf(
            spark,
            uri,
            result_type=RESULT_TYPE,
            env_manager="local",
            model_config={"runtime": "auto"},
            extra_env={"NLTK_DATA": nltk_data} if nltk_data else None,
        )
    tweets = F.coalesce(F.col(f"`{text_column}`").cast("string"), F.lit(""))  # empty CSV field: ""
    scored = frame.withColumn("__scored", predict(tweets))
    out = scored.select(
        *columns,
        F.col("__scored.label").alias("predicted_label"),
        F.col("__scored.probability_negative").alias("probability_negative"),
        F.col(_ROW),
    )
    return out, partitions


_PYTHON_ERROR = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): ?(.*)$", re.MULTILINE)
_SPARK_ERROR = re.compile(r"(\[[A-Z][A-Z_.]+\] [^\n]*)")


def _first_line(exc: BaseException) -> str:
    """One line from a Spark error: a Python worker's own exception (not its traceback), else the first
    ``[ERROR_CLASS] message`` of the JVM's answer, else its first line."""
    text = str(exc).strip()
    raised = _PYTHON_ERROR.findall(text) if "Traceback" in text else []
    if raised:
        name, detail = raised[-1]
        return f"{name}: {detail}".strip()
    spark = _SPARK_ERROR.search(text)
    if spark:
        return re.sub(r"\s*SQLSTATE: \w+\s*$", "", spark.group(1)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def _quiet_loggers(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for each, level in zip(loggers, levels, strict=True):
            each.setLevel(level)


def _write(frame: DataFrame, location: str, kind: str, single_file: bool, overwrite: bool) -> None:
    if single_file:  # one task gathers the scored rows; scoring itself stayed parallel
        frame = frame.repartition(1).sortWithinPartitions(_ROW)
    writer = frame.drop(_ROW).write.mode("overwrite" if overwrite else "errorifexists")
    if kind == "csv":
        writer = writer.options(header=True, escape='"')
    writer.format(kind).save(location)


def _discard(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _place(staged: Path, target: Path, single_file: bool, overwrite: bool) -> None:
    """Move a staged output folder (or its one part file) onto ``target``."""
    source = staged
    if single_file:
        parts = sorted(p for p in staged.iterdir() if p.name.startswith("part-"))
        if len(parts) != 1:
            raise DataError(f"Spark wrote {len(parts)} part files for --single-file output {target}.")
        source = parts[0]
    if overwrite and target.exists():
        _discard(target)
    os.replace(source, target)


def score_with_spark(
    spark: SparkSession,
    uri: str,
    input_location: str,
    output_location: str,
    text_column: str = "text",
    overwrite: bool = False,
    single_file: bool = False,
) -> SparkScoreReport:
    """Score every row of ``input_location`` into ``output_location`` (formats from the suffixes) on ``spark``.

    Args:
        spark: the session (see :func:`spark_session`).
        uri: the model (see :func:`resolve_model`).
        input_location: a path or a URI Spark reads (``.csv`` with a header, or ``.parquet``; a file or folder).
        output_location: where the folder of part files (or, with ``single_file``, the one file) goes.
        text_column: the tweets' column.
        overwrite: replace an existing output.
        single_file: one file instead of a folder (local master only).

    Raises:
        DataError: bad input, an output that exists without ``overwrite``, the input's own place, a failure
            while Spark reads, scores or writes (nothing is written then, on a local master).
        ConfigError: ``single_file`` on a cluster.
    """
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    kind = file_format(Path(output_location), "output")
    target = _local_path(output_location) if _is_local(spark) else None
    if single_file and target is None:
        raise ConfigError(
            "--single-file needs a local Spark master and a local output path; on a cluster the output is a folder."
        )
    if target is not None:
        source = _local_path(input_location)
        if source is not None and target.resolve() == source.resolve():
            raise DataError(f"output file {output_location} is the input file: choose another path.")
        if target.exists() and not overwrite:
            raise DataError(f"output {output_location} exists: choose another path or pass --overwrite.")
        if not target.parent.is_dir():
            raise DataError(f"output folder {target.parent} does not exist.")
    start = time.perf_counter()
    frame = read_tweets(spark, input_location, text_column)
    scored, partitions = score_frame(spark, frame, uri, text_column)
    counted = Observation("scored")
    scored = scored.observe(counted, F.count(F.lit(1)).alias("rows"))
    staged = target.with_name(f".{target.name}.{os.getpid()}.partial") if target is not None else None
    try:
        if staged is not None:  # a fresh folder beside the target, moved into place once complete
            _discard(staged)  # left by a killed run of the same process id
            _write(scored, str(staged.resolve()), kind, single_file, overwrite=False)
            _place(staged, target, single_file, overwrite)
        else:  # a cluster's URI: Spark's commit protocol
            _write(scored, output_location, kind, single_file, overwrite)
    except (PySparkException, Py4JError) as exc:
        raise DataError(_explain_failure(exc, input_location, output_location)) from None
    finally:
        if staged is not None:
            _discard(staged)
    rows = int(counted.get.get("rows", 0))
    seconds = time.perf_counter() - start
    return SparkScoreReport(rows, output_location, seconds, partitions, spark.sparkContext.master)


def _explain_failure(exc: BaseException, input_location: str, output_location: str) -> str:
    message = str(exc)
    # The innermost cause names the row: "[MALFORMED_CSV_RECORD] Malformed CSV record: 2,too,many,fields".
    malformed = re.search(r"\[MALFORMED_CSV_RECORD\] ([^\n]*)", message) or re.search(
        r"\[MALFORMED_RECORD[\w.]*\] ([^\n]*)", message
    )
    if malformed:
        detail = re.sub(r"\s*SQLSTATE: \w+\s*$", "", malformed.group(1)).strip().rstrip(".")
        return f"input file {input_location}: malformed CSV ({detail})."
    if "PATH_ALREADY_EXISTS" in message:
        return f"output {output_location} exists: choose another path or pass --overwrite."
    return f"scoring {input_location} on Spark failed: {_first_line(exc)}"


def score_registered_model(
    tracking: TrackingConfig,
    input_location: str,
    output_location: str,
    spark_config: SparkScoringConfig,
    text_column: str = "text",
    overwrite: bool = False,
    alias: str | None = None,
    version: str | None = None,
) -> tuple[SparkScoreReport, str]:
    """Resolve the model, start a session, score, stop: what ``air-paradise score --spark`` does.

    Returns:
        The report and the model URI that scored.
    """
    uri, _ = resolve_model(tracking, alias, version)
    logger.debug("scoring %s with %s on Spark", input_location, uri)
    with spark_session(spark_config) as spark:
        report = score_with_spark(
            spark, uri, input_location, output_location, text_column, overwrite, spark_config.single_file
        )
    return report, uri
