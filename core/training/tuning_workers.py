"""Shared Optuna studies: worker processes, here and on other machines, run the trials of one study
kept in an RDB storage (``tuning.storage``: a SQLite file for one machine, PostgreSQL for several).

Optuna does the coordination, nothing here schedules or queues work: the study and its trials live
in the database (``load_if_exists``); a worker stops once the study counts ``n_trials`` finished,
running or queued trials (``MaxTrialsCallback``); a running trial writes a heartbeat, and a trial
whose worker died (no heartbeat for ``tuning.grace_period_s``) is failed by the next process that
starts a trial or looks (``fail_stale_trials``), its values queued once more
(``RetryHeartbeatStaleTrialCallback``) and its MLflow run ended as FAILED.

The lead (``air-paradise train``) creates the study of each tuned family and variant, records in it
what a joining worker needs (the parent MLflow run, the trial count, the settings' fingerprint),
runs ``tuning.workers`` spawned processes on it, waits for trials still running elsewhere, then
trains the final model with the best trial. ``air-paradise tune-worker`` with the same settings
joins the same studies from another machine (:func:`join_studies`). Every trial, whichever
process runs it, is a nested MLflow run of the family's parent run (``parent_run_id``): every
worker logs to the same tracking server.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import optuna
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback, fail_stale_trials
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, TrialState

from core.config import PipelineConfig, TuningConfig, flatten
from core.data.prepared import PreparedData, prepare_data
from core.data.preprocessing import Preprocessor
from core.errors import ConfigError, CoreError
from core.tracking.setup import configure_tracking
from core.training.tuning import record_best, score_trial, suggest

logger = logging.getLogger(__name__)

COUNTED = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
"""Trials that count towards ``n_trials``: finished, running, or queued again after their worker died."""
_FINGERPRINTED = ("data.", "split.", "evaluation.", "calibration.", "noise.")
"""Config sections a trial's score depends on (with the seed and the tuned family's section)."""
_MACHINE_PATHS = ("data.path", "data.nltk_data", "data.human_dir")
"""Paths that may differ between machines: the data is fingerprinted by its content instead."""
_POLL_S = 2.0


class TuningIncomplete(CoreError):
    """A shared study ended short of its trials: a worker died or failed."""


class SurplusTrial(Exception):  # noqa: N818 - a reason to fail a trial, caught by the optimize loop
    """A trial that started after the study already had its trials (two workers asked at once)."""


@dataclass
class WorkerJob:
    """What a worker process needs to run trials of one shared study."""

    study_name: str
    family: str
    variant: str
    config: PipelineConfig
    data: PreparedData
    tracking_uri: str
    parent_run_id: str
    experiment_id: str
    n_trials: int
    seed: int | None
    """Seed of the first worker's sampler (the next ones add their index); ``None``: fresh entropy."""


@dataclass(frozen=True)
class StudyReport:
    """Where one shared study stands."""

    name: str
    finished: int
    failed: int
    n_trials: int


def storage_url(tuning: TuningConfig) -> str:
    """The SQLAlchemy URL of ``tuning.storage``, PostgreSQL driven by psycopg 3."""
    url = str(tuning.storage)
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def open_storage(tuning: TuningConfig) -> RDBStorage:
    """The shared storage, with heartbeats and the retry of trials whose worker died.

    Raises:
        CoreError: the database cannot be reached or opened.
    """
    url = storage_url(tuning)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs: dict[str, Any] = {"connect_args": {"timeout": 60}}  # workers wait for each other's writes
    else:
        engine_kwargs = {"pool_pre_ping": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        try:
            return RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=tuning.heartbeat_s,
                grace_period=tuning.grace_period_s,
                heartbeat_stale_trial_callback=RetryStaleTrial(),
            )
        except Exception as exc:  # SQLAlchemy's errors for a refused connection, a missing driver
            raise CoreError(f"Cannot open the tuning storage {tuning.storage}: {exc}") from None


class RetryStaleTrial:
    """For a trial whose worker died: end its MLflow run as FAILED and queue its values once more."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            self._retry = RetryHeartbeatStaleTrialCallback(max_retry=1)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        logger.warning(
            "Trial %d of study '%s' wrote no heartbeat for a while (its worker died): failed, its values queued again.",
            trial.number,
            study.study_name,
        )
        run_id = trial.user_attrs.get("mlflow_run_id")
        if run_id:
            try:
                MlflowClient().set_terminated(run_id, "FAILED")
            except MlflowException as exc:  # the run belongs to a tracking store this process cannot reach
                logger.warning("Could not end the MLflow run %s of trial %d: %s", run_id, trial.number, exc.message)
        self._retry(study, trial)


def study_fingerprint(config: PipelineConfig, family: str, variant: str, data: PreparedData) -> str:
    """A hash of what a trial's score depends on: the data (by content), the split, the decision
    settings, the seed, the family's settings and search space, the variant.

    Equal on every machine that prepares the same data with the same settings, wherever its files are.
    """
    settings = {
        key: value
        for key, value in flatten(config).items()
        if (key == "seed" or key.startswith((*_FINGERPRINTED, f"models.{family}."))) and key not in _MACHINE_PATHS
    }
    human = data.human
    settings.update(
        family=family,
        variant=variant,
        data_sha256=data.data_sha256,
        human=str(pd.util.hash_pandas_object(human[["text", "label", "part"]]).sum()) if human is not None else "",
        search_space=str(config.tuning.search_spaces[family]),
    )
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def study_name(config: PipelineConfig, family: str, variant: str, data: PreparedData) -> str:
    """``tuning.study_name-family-variant``, else ``tune-family-variant-<fingerprint>``."""
    if config.tuning.study_name:
        return f"{config.tuning.study_name}-{family}-{variant}"
    return f"tune-{family}-{variant}-{study_fingerprint(config, family, variant, data)}"


def counted(study: optuna.Study) -> int:
    """How many trials of ``study`` count towards its ``n_trials`` (see :data:`COUNTED`)."""
    return len(study.get_trials(deepcopy=False, states=COUNTED))


def tune_in_study(family: str, variant: str, data: PreparedData, config: PipelineConfig) -> dict[str, Any]:
    """Tune ``family`` on a shared study from inside its active (parent) MLflow run, as the lead.

    Creates (or resumes) the study, runs ``tuning.workers`` processes on it, waits for trials still
    running on other machines, and logs the best trial into the parent run.

    Returns:
        The best trial's values (config field -> value).

    Raises:
        ConfigError: the study exists with other settings or data.
        TuningIncomplete: the study has fewer than ``tuning.n_trials`` finished trials after a
            worker died or failed (running the same command again resumes it), or none at all.
    """
    parent = mlflow.active_run()
    if parent is None:
        raise RuntimeError("tune_in_study runs inside the family's parent MLflow run.")
    tuning = config.tuning
    storage = open_storage(tuning)
    name = study_name(config, family, variant, data)
    study = _lead_study(storage, name, study_fingerprint(config, family, variant, data), parent.info.run_id, tuning)
    mlflow.set_tag("tuning_study", name)
    logger.info(
        "Tuning %s-%s in study '%s' of %s: %d worker process(es) here; other machines join with "
        "`air-paradise tune-worker` and the same settings.",
        family,
        variant,
        name,
        tuning.storage,
        tuning.workers,
    )
    data.processed(Preprocessor(variant, config.data.resolved_nltk_data()))  # once, before the data is sent
    job = WorkerJob(
        name,
        family,
        variant,
        config,
        data,
        mlflow.get_tracking_uri(),
        parent.info.run_id,
        parent.info.experiment_id,
        tuning.n_trials,
        config.seed,
    )
    codes = run_workers(job, tuning.workers)
    report = _settle(study, tuning)
    mlflow.log_metric("tuning_failed_trials", float(report.failed))
    dead = [code for code in codes if code != 0]
    short = report.finished < tuning.n_trials and (bool(dead) or tuning.timeout_s is None)
    if not report.finished or short:
        cause = (
            f"{len(dead)} worker process(es) here died or failed (exit codes {', '.join(map(str, dead))})"
            if dead
            else "workers elsewhere died or failed"
        )
        raise TuningIncomplete(
            f"Tuning study '{name}' has {report.finished} of {tuning.n_trials} trials finished: {cause}; "
            "run the same command again to finish the study."
        )
    return record_best(study.best_trial, report.finished, family, variant, config)


def _lead_study(
    storage: RDBStorage, name: str, fingerprint: str, parent_run_id: str, tuning: TuningConfig
) -> optuna.Study:
    """Create or resume the study ``name``; record what joining workers need in its user attributes.

    Raises:
        ConfigError: the study exists with another fingerprint (other settings or data).
    """
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True)
    found = study.user_attrs.get("fingerprint")
    if found is None:
        study.set_user_attr("fingerprint", fingerprint)
    elif found != fingerprint:
        raise ConfigError(
            f"Tuning study '{name}' was made with other settings or data: choose another tuning.study_name."
        )
    study.set_user_attr("n_trials", tuning.n_trials)
    study.set_user_attr("parent_run_id", parent_run_id)  # last: a joining worker waits for it
    return study


def _settle(study: optuna.Study, tuning: TuningConfig) -> StudyReport:
    """Wait for the trials still running elsewhere, failing those whose worker died; count the study."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        fail_stale_trials(study)
        while study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            time.sleep(tuning.heartbeat_s)
            fail_stale_trials(study)
    return StudyReport(
        study.study_name,
        len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))),
        len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,))),
        int(study.user_attrs.get("n_trials", tuning.n_trials)),
    )


def run_workers(job: WorkerJob, count: int) -> list[int]:
    """Run ``count`` spawned worker processes on the job's study until they end.

    Returns:
        Their exit codes (0: the study had its trials; negative: killed by that signal).
    """
    context = multiprocessing.get_context("spawn")  # no fork of a process holding MLflow and DB connections
    processes = [
        context.Process(target=run_worker, args=(job, index), name=f"tuning-worker-{index}") for index in range(count)
    ]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.join()
    finally:  # the lead cancelled or interrupted: stop the workers (each fails its trial, ends its run)
        for process in processes:
            if process.pid is not None and process.is_alive():
                process.terminate()
        for process in processes:
            if process.pid is not None:
                process.join()
    for index, process in enumerate(processes):
        if process.exitcode != 0:
            logger.warning("Tuning worker %d (pid %s) ended with exit code %s.", index, process.pid, process.exitcode)
    return [int(process.exitcode or 0) for process in processes]


def run_worker(job: WorkerJob, index: int) -> None:
    """A worker process: run trials of the job's study until it counts its ``n_trials``."""
    _set_up_worker_process(index)
    try:
        configure_tracking(dataclasses.replace(job.config.tracking, tracking_uri=job.tracking_uri))
        seed = None if job.seed is None else job.seed + index
        sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True)  # running trials steer the others away
        study = optuna.load_study(study_name=job.study_name, storage=open_storage(job.config.tuning), sampler=sampler)
        fail_stale_trials(study)  # a dead worker's trial is failed (and queued again) before counting
        if counted(study) >= job.n_trials:
            return
        study.optimize(
            trial_objective(job),
            timeout=job.config.tuning.timeout_s,
            callbacks=[MaxTrialsCallback(job.n_trials, states=COUNTED)],
            catch=(SurplusTrial,),
        )
    except KeyboardInterrupt:  # SIGTERM from the lead, or Ctrl-C: the trial is failed, its run ended
        logger.warning("Tuning worker %d stopped.", index)
        raise SystemExit(130) from None


def trial_objective(job: WorkerJob) -> Callable[[optuna.Trial], float]:
    """The objective of a shared study: each trial a nested MLflow run of the job's parent run."""
    space = job.config.tuning.search_spaces[job.family]
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial: optuna.Trial) -> float:
        before = [t for t in trial.study.get_trials(deepcopy=False, states=COUNTED) if t.number < trial.number]
        if len(before) >= job.n_trials:  # asked at the same moment as another worker's last trial
            raise SurplusTrial(f"the study already has its {job.n_trials} trials")
        trial.set_user_attr("worker", worker)
        values = {name: suggest(trial, name, param) for name, param in space.items()}
        run_name = f"{job.family}-{job.variant}-trial-{trial.number}"
        with mlflow.start_run(
            run_name=run_name, experiment_id=job.experiment_id, parent_run_id=job.parent_run_id
        ) as run:
            trial.set_user_attr("mlflow_run_id", run.info.run_id)  # for the heartbeat's clean-up if it dies
            mlflow.set_tags({"tuning_study": job.study_name, "tuning_worker": worker})
            if job.config.tuning.trial_sleep_s:
                time.sleep(job.config.tuning.trial_sleep_s)
            return score_trial(trial.number, job.family, job.variant, job.data, job.config, values)

    return objective


def _set_up_worker_process(index: int) -> None:
    """Logging, quiet libraries and SIGTERM as an interrupt, in a fresh (spawned) worker process."""
    logging.basicConfig(
        level=logging.INFO, format=f"%(levelname)s %(name)s [tuning worker {index}, pid %(process)d]: %(message)s"
    )
    for name in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", ExperimentalWarning)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def join_studies(config: PipelineConfig, wait_s: float) -> list[StudyReport]:
    """Join, from this machine, the shared studies a lead runs with the same settings (``tune-worker``).

    For each tuned family and variant, in the lead's order: wait for its study (the lead creates
    it when it gets there), run ``tuning.workers`` processes on it, logging each trial as a nested run
    of the lead's parent run, and wait for them. Nothing is trained or registered beyond the trials.

    Args:
        config: the lead's settings (the same command line, ``tune-worker`` instead of ``train``).
        wait_s: how long to wait for a study to appear.

    Raises:
        ConfigError: no storage or no tuned family; a study made with other settings or data.
        CoreError: a study did not appear in time, or its parent run is not in this tracking store.
        TuningIncomplete: a worker process died or failed.
    """
    if config.tuning.storage is None:
        raise ConfigError("tune-worker joins shared studies: give the lead's --tuning-storage URL.")
    pairs = [(f, v) for f in config.families if f in config.tuning.families for v in config.variants_for(f)]
    if not pairs:
        raise ConfigError("tune-worker: no tuned family among the models: give the lead's --model and --tune.")
    uri = configure_tracking(config.tracking)
    data = prepare_data(config)
    storage = open_storage(config.tuning)
    reports = []
    for family, variant in pairs:
        name = study_name(config, family, variant, data)
        study = _await_study(storage, name, config.tuning, wait_s)
        if study.user_attrs.get("fingerprint") != study_fingerprint(config, family, variant, data):
            raise ConfigError(f"Tuning study '{name}' was made with other settings or data than this command's.")
        parent_id = study.user_attrs["parent_run_id"]
        try:
            experiment_id = MlflowClient().get_run(parent_id).info.experiment_id
        except MlflowException:
            raise CoreError(
                f"The parent run {parent_id} of study '{name}' is not in the tracking store at {uri}: "
                "give the lead's --tracking-uri."
            ) from None
        logger.info("Joining study '%s' with %d worker process(es).", name, config.tuning.workers)
        data.processed(Preprocessor(variant, config.data.resolved_nltk_data()))
        n_trials = int(study.user_attrs["n_trials"])
        job = WorkerJob(name, family, variant, config, data, uri, parent_id, experiment_id, n_trials, None)
        dead = [code for code in run_workers(job, config.tuning.workers) if code != 0]
        if dead:
            raise TuningIncomplete(
                f"{len(dead)} worker process(es) on study '{name}' died or failed (exit codes "
                f"{', '.join(map(str, dead))}); run the same command again to rejoin it."
            )
        reports.append(_settle(study, config.tuning))
    return reports


def _await_study(storage: RDBStorage, name: str, tuning: TuningConfig, wait_s: float) -> optuna.Study:
    """The study ``name`` once its lead has recorded its parent run.

    Raises:
        CoreError: it did not appear within ``wait_s`` seconds.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            study = optuna.load_study(study_name=name, storage=storage)
            if "parent_run_id" in study.user_attrs:
                return study
        except KeyError:  # not created yet
            pass
        if time.monotonic() >= deadline:
            raise CoreError(
                f"No tuning study '{name}' in {tuning.storage} after {wait_s:.0f} s: "
                "start the lead (air-paradise train) with the same settings."
            )
        time.sleep(_POLL_S)
