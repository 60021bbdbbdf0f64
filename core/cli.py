"""Command line: ``python -m core {train,compare,predict,score,up,monitor,retrain,tune-worker}``.

Every user error ends with one clear line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import (
    ALL_FAMILIES,
    DECISION_PARTS,
    METRICS,
    PREPROCESSING_VARIANTS,
    PROFILES,
    SPLIT_STRATEGIES,
    PipelineConfig,
    apply_overrides,
    get_profile,
)
from core.config.overrides import parse_assignments
from core.errors import CoreError
from core.monitoring.settings import MonitoringConfig
from core.training.progress import ProgressFile, TrainingCancelled, TrainingMonitor

# Each command imports its stage when it runs (the imports inside the cmd_* functions): those load
# MLflow, pandas and the model frameworks, so ``--help`` and a bad argument answer at once.

if TYPE_CHECKING:  # only for the annotation: the store's module loads SQLAlchemy
    from core.monitoring.event_store import EventStore

logger = logging.getLogger("core")


def _add_tracking(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the SQLite store in .mlflow/)",
    )


def _add_training(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="quick", choices=list(PROFILES), help="named settings (default: quick)")
    parser.add_argument(
        "--model", nargs="+", choices=ALL_FAMILIES, metavar="FAMILY", help=f"model families ({', '.join(ALL_FAMILIES)})"
    )
    parser.add_argument(
        "--preprocessing",
        nargs="+",
        choices=PREPROCESSING_VARIANTS,
        metavar="VARIANT",
        help=f"variants ({', '.join(PREPROCESSING_VARIANTS)})",
    )
    parser.add_argument("--data", type=Path, help="Sentiment140-format CSV (default: the shared subset)")
    parser.add_argument("--max-rows", type=int, help="stratified subsample before the split")
    parser.add_argument("--split", choices=SPLIT_STRATEGIES, help="split strategy (default: stratified)")
    parser.add_argument("--seed", type=int, help="seed of the split and of training")
    parser.add_argument("--no-ood", action="store_true", help="skip the out-of-domain twitter_samples check")
    parser.add_argument("--tune", nargs="+", metavar="FAMILY", help="tune these families with Optuna first")
    parser.add_argument("--trials", type=int, help="Optuna trials per tuned family (over all of its workers)")
    parser.add_argument(
        "--tuning-storage",
        metavar="URL",
        help="share each study in this Optuna RDB storage (sqlite:///tuning.db, postgresql+psycopg://user@host/db) "
        "so that several processes and machines run its trials (default: in memory, in this process)",
    )
    parser.add_argument(
        "--tuning-workers", type=int, metavar="K", help="worker processes here on each shared study (default: 1)"
    )
    parser.add_argument(
        "--tuning-study",
        metavar="NAME",
        help="shared studies are NAME-family-variant (default: tune-family-variant-<fingerprint of the settings>)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any setting, e.g. --set models.bert.checkpoint=bert-base-uncased (repeatable)",
    )
    _add_tracking(parser)


def build_config(args: argparse.Namespace) -> PipelineConfig:
    """The pipeline config of a profile with the command-line overrides applied."""
    config = get_profile(args.profile)
    data = dataclasses.replace(
        config.data,
        path=args.data or config.data.path,
        max_rows=args.max_rows if args.max_rows is not None else config.data.max_rows,
        ood=config.data.ood and not args.no_ood,
    )
    split = dataclasses.replace(
        config.split,
        strategy=args.split or config.split.strategy,
        seed=config.split.seed if args.seed is None else args.seed,
    )
    tracking = dataclasses.replace(config.tracking, tracking_uri=args.tracking_uri or config.tracking.tracking_uri)
    if args.preprocessing:  # an explicit choice applies to every family, pinned or not
        for f in dataclasses.fields(config.models):
            family_config = getattr(config.models, f.name)
            if hasattr(family_config, "preprocessing"):
                family_config.preprocessing = None
    tuning = dataclasses.replace(
        config.tuning,
        families=tuple(args.tune) if args.tune is not None else config.tuning.families,
        n_trials=args.trials or config.tuning.n_trials,
        storage=args.tuning_storage or config.tuning.storage,
        workers=config.tuning.workers if args.tuning_workers is None else args.tuning_workers,
        study_name=args.tuning_study or config.tuning.study_name,
    )
    config = dataclasses.replace(
        config,
        tuning=tuning,
        families=tuple(args.model or config.families),
        preprocessing=tuple(args.preprocessing or config.preprocessing),
        seed=config.seed if args.seed is None else args.seed,
        data=data,
        split=split,
        tracking=tracking,
    )
    return apply_overrides(config, parse_assignments(args.set))  # together: checked on the final values


def _tracking_config(args: argparse.Namespace) -> PipelineConfig:
    config = PipelineConfig()
    config.tracking.tracking_uri = args.tracking_uri
    return config


def cmd_train(args: argparse.Namespace) -> int:
    """Train, register and promote; print the champion."""
    from core.training.pipeline import run_pipeline

    config = build_config(args)
    progress_file = getattr(args, "progress_file", None)
    monitor = TrainingMonitor(ProgressFile(progress_file) if progress_file else None)
    try:
        with monitor.cancel_on_sigterm():  # SIGTERM: the current run ends KILLED, nothing half registered
            result = run_pipeline(config, monitor)
    except TrainingCancelled:
        monitor.report("cancelled", message="cancelled by SIGTERM")
        raise
    key = config.evaluation.selection_key
    for run in result.runs:
        report = run.metrics.get("human_report_roc_auc", float("nan"))
        print(
            f"{run.family:>10} {run.preprocessing:<10} v{run.version}  {key}={run.metrics['selection_score']:.4f}  "
            f"test_roc_auc={run.metrics['test_roc_auc']:.4f}  human_report_roc_auc={report:.4f}"
        )
    if result.champion:
        c = result.champion
        name = config.tracking.registered_model
        print(f"champion: {name} v{c.version} ({c.family}, {c.preprocessing}), {key}={c.score:.4f}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Print the comparison table and write it as CSV and Markdown."""
    from core.tracking.comparison import comparison_table, describe_budget, format_markdown, write_table
    from core.tracking.setup import configure_tracking

    config = _tracking_config(args)
    configure_tracking(config.tracking)
    table = comparison_table(config.tracking, args.metric, args.part, config.serving)
    if table.empty:
        print("No finished training run yet: run `python -m core train --profile quick` first.")
        return 1
    print(format_markdown(table))
    print(describe_budget(config.serving))
    csv_path, md_path = write_table(table, args.output_dir or config.reports_dir)
    print(f"\nwritten: {csv_path} and {md_path}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict tweets with the champion (or a given alias/version)."""
    from core.serving.predictor import Predictor

    config = _tracking_config(args)
    predictor = Predictor(config.tracking, alias=args.alias, version=args.version)
    texts = [t for t in args.texts if t.strip()]
    if not texts:
        raise CoreError("Give at least one non-empty tweet to predict.")
    for p in predictor.predict(texts):
        print(f"{p.label}\t{p.probability_negative:.4f}\t{p.text}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Score a CSV or parquet file of tweets with a registered model (the champion by default)."""
    from core.serving.batch import score_file
    from core.serving.predictor import Predictor

    config = _tracking_config(args)
    if args.spark or args.spark_master:
        from core.serving.spark_scoring import SparkScoringConfig, score_registered_model

        spark = SparkScoringConfig(args.spark_master, args.chunk_size, args.single_file, args.verbose)
        print(f"scoring {args.input} on Spark ...", file=sys.stderr)
        report, uri = score_registered_model(
            config.tracking, args.input, args.output, spark, args.text_column, args.overwrite, args.alias, args.version
        )
        print(
            f"{report.rows} tweets scored with {uri} in {report.seconds:.1f} s ({report.tweets_per_s:.0f}/s, "
            f"{report.partitions} tasks on {report.master}): {report.output}"
        )
        return 0
    if args.single_file:
        raise CoreError("--single-file is for --spark (the in-process scorer always writes one file).")
    predictor = Predictor(config.tracking, alias=args.alias, version=args.version)
    print(f"scoring {args.input} with {predictor.uri} (version {predictor.version}) ...", file=sys.stderr)
    report = score_file(
        predictor.model.predict,
        Path(args.input),
        Path(args.output),
        text_column=args.text_column,
        chunk_rows=args.chunk_size,
        overwrite=args.overwrite,
    )
    print(f"{report.rows} tweets scored in {report.seconds:.1f} s ({report.tweets_per_s:.0f}/s): {report.output}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """The main job: train the profile if no champion exists, then show the comparison."""
    from core.tracking.registry import alias_version
    from core.tracking.setup import configure_tracking

    config = build_config(args)
    configure_tracking(config.tracking)
    if alias_version(config.tracking) is None:
        print(f"No champion yet: training the '{config.profile}' profile.", flush=True)
        cmd_train(args)
    else:
        print(f"Champion already registered (v{alias_version(config.tracking)}); skipping training.")
    args.metric, args.part = config.evaluation.selection_metric, config.evaluation.selection_part
    args.output_dir = None
    return cmd_compare(args)


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        help="event store URL, sqlite:///path or postgresql://... "
        "(default: $EVENT_STORE_URL, else the SQLite file $API_FEEDBACK_DB or .data/feedback.db)",
    )


def _store(args: argparse.Namespace) -> EventStore:
    """The event store named on the command line, else by the API's environment variables."""
    from core.monitoring.event_store import EventStore

    return EventStore(args.store or MonitoringConfig.from_env().resolved_store_url)


def cmd_monitor(args: argparse.Namespace) -> int:
    """Per day and week: volume, share negative, confidence, flagged errors and drift (PSI)."""
    from datetime import timedelta

    from core.monitoring.event_store import now_utc
    from core.monitoring.report import format_table, report_from_store

    store = _store(args)
    since = now_utc() - timedelta(days=args.days) if args.days else None
    report = report_from_store(store, None if args.no_reference else _tracking_config(args), since)
    if not report.events:
        print(f"No prediction events in {store!r} yet: serve some predictions first.")
        return 1
    if report.reference_error:
        print(f"PSI not computed: {report.reference_error}")
    print(f"{report.events} prediction events; drift reference: {report.reference_source or 'none'}")
    for name, table in (("week", report.weekly), ("day", report.daily)):
        if args.period in (name, "both"):
            print(f"\nPer {name}:\n{format_table(table)}")
    print("\n" + ("\n".join(report.warnings) if report.warnings else "No drift warning."))
    output = args.output_dir or _tracking_config(args).reports_dir / "monitoring"
    output.mkdir(parents=True, exist_ok=True)
    report.daily.to_csv(output / "daily.csv", index=False)
    report.weekly.to_csv(output / "weekly.csv", index=False)
    html = [fig.to_html(full_html=False, include_plotlyjs=i == 0) for i, fig in enumerate(report.figures.values())]
    (output / "monitoring.html").write_text("<html><body>" + "\n".join(html) + "</body></html>", encoding="utf-8")
    print(f"\nwritten: {output / 'daily.csv'}, {output / 'weekly.csv'}, {output / 'monitoring.html'}")
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    """Train a challenger (with the flagged tweets) and promote it only if it beats the champion."""
    from core.retraining.loop import retrain

    config = build_config(args)
    store = _store(args) if args.with_feedback else None
    result = retrain(
        config,
        store,
        family=args.model[0] if args.model else None,
        preprocessing=args.preprocessing[0] if args.preprocessing else None,
        compare_on=args.compare_on,
    )
    if store is not None:
        print(
            f"feedback: {result.feedback_added} flagged tweets added to train "
            f"({result.feedback_held_out} left out: their text is in validation/test; "
            f"{result.feedback_replacing} replaced a train row)"
        )
    for name in result.champion_scores:
        mark = " (decides)" if name == result.compared_on else ""
        print(
            f"{name}{mark} {result.metric}: champion v{result.champion_version} {result.champion_scores[name]:.4f}, "
            f"challenger v{result.challenger_version} {result.challenger_scores[name]:.4f}"
        )
    if result.promoted:
        print(f"promoted: v{result.challenger_version} is the new champion")
    else:
        print(f"kept: v{result.champion_version} stays champion (challenger v{result.challenger_version} not better)")
    return 0


def cmd_tune_worker(args: argparse.Namespace) -> int:
    """Join the shared tuning studies of a lead run with the same settings; train nothing else."""
    from core.training.tuning_workers import join_studies

    for report in join_studies(build_config(args), args.wait):
        print(f"study {report.name}: {report.finished} of {report.n_trials} trials finished, {report.failed} failed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m core`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Air Paradise tweet sentiment pipeline.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train model families, register them, promote the champion")
    _add_training(train)
    train.add_argument("--progress-file", type=Path, help="write JSON progress reports here (used by the console)")
    train.set_defaults(func=cmd_train)

    compare = sub.add_parser("compare", help="comparison table of all runs (printed, CSV, Markdown)")
    compare.add_argument("--metric", default="roc_auc", choices=METRICS, help="metric to rank by (default: roc_auc)")
    compare.add_argument(
        "--part", default="human_select", choices=DECISION_PARTS, help="where it is read (default: human_select)"
    )
    compare.add_argument("--output-dir", type=Path, help="where to write comparison.csv/.md (default: reports/)")
    _add_tracking(compare)
    compare.set_defaults(func=cmd_compare)

    predict = sub.add_parser("predict", help="predict tweets with the champion")
    predict.add_argument("texts", nargs="+", metavar="TWEET")
    predict.add_argument("--alias", help="registry alias (default: champion)")
    predict.add_argument("--version", help="registered version number (overrides --alias)")
    _add_tracking(predict)
    predict.set_defaults(func=cmd_predict)

    score = sub.add_parser("score", help="score a CSV or parquet file of tweets with the champion, chunk by chunk")
    # --input/--output stay strings: Path() would fold a URI's '//' (s3a://bucket/...) for --spark.
    score.add_argument("--input", required=True, help="tweets, .csv (with a header) or .parquet (--spark: or a URI)")
    score.add_argument(
        "--output",
        required=True,
        help="where to write the scored rows (.csv or .parquet); with --spark a folder of part files, "
        "or one file with --single-file",
    )
    score.add_argument("--text-column", default="text", help="column holding the tweets (default: text)")
    score.add_argument(
        "--chunk-size", type=int, default=10_000, help="rows read, scored and written at a time (--spark: per batch)"
    )
    score.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    score.add_argument("--spark", action="store_true", help="score on Spark (mlflow spark_udf) instead of in-process")
    score.add_argument(
        "--spark-master",
        help="Spark master URL; implies --spark (default: the active session's, as under spark-submit, else local[2])",
    )
    score.add_argument(
        "--single-file", action="store_true", help="--spark: one output file, in input order (local master only)"
    )
    score.add_argument("--alias", help="registry alias (default: champion)")
    score.add_argument("--version", help="registered version number (overrides --alias)")
    _add_tracking(score)
    score.set_defaults(func=cmd_score)

    up = sub.add_parser("up", help="main job: train the quick profile if no champion exists, then compare")
    _add_training(up)
    up.set_defaults(func=cmd_up)

    monitor = sub.add_parser("monitor", help="per day/week volume, negatives, confidence, flagged errors, drift")
    _add_store(monitor)
    monitor.add_argument("--period", choices=("day", "week", "both"), default="both", help="tables to print")
    monitor.add_argument("--days", type=int, help="only the last N days of events")
    monitor.add_argument("--no-reference", action="store_true", help="skip PSI (no champion scoring)")
    monitor.add_argument("--output-dir", type=Path, help="CSV tables and HTML figures (default: reports/monitoring/)")
    _add_tracking(monitor)
    monitor.set_defaults(func=cmd_monitor)

    retrain = sub.add_parser("retrain", help="train a challenger on the champion's split; promote it only if better")
    _add_training(retrain)
    retrain.add_argument("--with-feedback", action="store_true", help="add the flagged tweets (corrected) to train")
    _add_store(retrain)
    retrain.add_argument(
        "--compare-on",
        choices=("human_select", "validation", "test"),
        help="part that decides (default: where the champion is chosen, human_select)",
    )
    retrain.set_defaults(func=cmd_retrain)

    worker = sub.add_parser(
        "tune-worker",
        help="run trials of a lead's shared tuning studies from this machine (the lead's options, no training)",
    )
    _add_training(worker)
    worker.add_argument(
        "--wait", type=float, default=600.0, metavar="SECONDS", help="wait this long for each study (default: 600)"
    )
    worker.set_defaults(func=cmd_tune_worker)
    return parser


def _quiet_libraries() -> None:
    for name in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    _quiet_libraries()
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except TrainingCancelled:
        print("cancelled: the current run ended as KILLED, nothing of it registered", file=sys.stderr)
        return 143
