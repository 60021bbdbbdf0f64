"""The configuration of one training session: data, split, evaluation, calibration, label noise,
ensemble, tuning and tracking, gathered in :class:`PipelineConfig`.

The whole of it is logged to MLflow as parameters (see :func:`flatten`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.config.checks import check as _check
from core.config.checks import check_fraction as _fraction
from core.config.families import PREPROCESSING_VARIANTS, ModelsConfig
from core.config.paths import (
    DEFAULT_CACHE_DIR,
    DEFAULT_DATA_PATH,
    DEFAULT_HUMAN_DIR,
    DEFAULT_NLTK_DATA,
    DEFAULT_REPORTS_DIR,
    DEFAULT_STORE_DIR,
    PROJECT_ROOT,
)

SPLIT_STRATEGIES = ("stratified", "time")
METRICS = ("f1_negative", "roc_auc", "pr_auc", "accuracy", "f1_macro")
DECISION_PARTS = ("human_select", "val")
"""Where a decision (champion, calibration and threshold, ensemble weights) is taken."""
ENSEMBLE_FITS = ("human_select", "val_ood")


@dataclass
class DataConfig:
    """Where the tweets come from and how many are used."""

    path: Path = DEFAULT_DATA_PATH
    """Sentiment140-format CSV (6 columns, no header, latin-1). The full 1.6M-row file works too."""
    max_rows: int | None = None
    """Class-stratified, seeded subsample taken before the split (``None``: every row)."""
    nltk_data: Path | None = None
    """NLTK data folder; ``None``: ``$NLTK_DATA``, else ``../shared/nltk_data``."""
    ood_max_rows: int | None = None
    """How many stripped ``twitter_samples`` tweets to score out of domain (``None``: all 10,000)."""
    ood: bool = True
    """Score every model on NLTK ``twitter_samples`` with emoticons stripped."""
    twitter_samples_train: int = 0
    """Stripped ``twitter_samples`` tweets added to the training split (class-stratified, seeded;
    0: none). They come from outside the out-of-domain evaluation set (the ``ood_max_rows`` tweets,
    the same with or without this), and none is identical once cleaned to a validation, test or
    out-of-domain tweet."""
    human: bool = True
    """Score every run on the human-labelled tweets of ``human_dir`` (see :mod:`core.data.human`);
    they are never trained on: any training tweet equal to one once cleaned is left out."""
    human_dir: Path = DEFAULT_HUMAN_DIR
    """Folder of human-labelled sets: STS-Gold, TweetEval and/or ``text,label`` CSVs."""
    human_max_rows: int | None = None
    """Stratified (by set and label) subsample of the human-labelled tweets (``None``: all)."""
    human_select_fraction: float = 0.5
    """Share of each (set, label) group in the ``select`` part (decisions); the rest is ``report``."""
    human_seed: int = 2026
    """Seed of that split and subsample, apart from the training seed: every session is judged on
    the same tweets."""

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.human_dir = Path(self.human_dir)
        _fraction(self.human_select_fraction, "data.human_select_fraction")
        _check(self.human_max_rows is None or self.human_max_rows >= 20, "data.human_max_rows must be at least 20.")
        if self.nltk_data is not None:
            self.nltk_data = Path(self.nltk_data)
        _check(self.max_rows is None or self.max_rows >= 20, "data.max_rows must be at least 20.")
        _check(
            self.ood_max_rows is None or self.ood_max_rows >= 10,
            "data.ood_max_rows must be at least 10.",
        )
        _check(self.twitter_samples_train >= 0, "data.twitter_samples_train must not be negative.")

    def resolved_nltk_data(self) -> Path:
        """The NLTK data folder actually used: config, then ``$NLTK_DATA``, then the shared one."""
        if self.nltk_data is not None:
            return self.nltk_data
        env = os.environ.get("NLTK_DATA")
        return Path(env.split(os.pathsep)[0]) if env else DEFAULT_NLTK_DATA


@dataclass
class SplitConfig:
    """How tweets are divided into train / validation / test (decided before any fitting)."""

    strategy: str = "stratified"
    """``stratified``: random, stratified by class x month; ``time``: newest tweets held out."""
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 42

    def __post_init__(self) -> None:
        _check(
            self.strategy in SPLIT_STRATEGIES,
            f"split.strategy must be one of {', '.join(SPLIT_STRATEGIES)}, got '{self.strategy}'.",
        )
        _fraction(self.val_fraction, "split.val_fraction")
        _fraction(self.test_fraction, "split.test_fraction")
        _check(
            self.val_fraction + self.test_fraction < 0.9,
            "split.val_fraction + split.test_fraction must leave at least 10% for training.",
        )


@dataclass
class EvaluationConfig:
    """What 'better' means: the selection metric and how the decision threshold is chosen."""

    selection_metric: str = "roc_auc"
    """Metric that ranks runs and picks the champion (see the README)."""
    selection_part: str = "human_select"
    """Where that metric is read: ``human_select`` (the human-labelled ``select`` part) or ``val``
    (the emoticon-labelled validation split)."""
    threshold_metric: str = "f1_negative"
    """The decision threshold on P(negative) maximises this metric on the decision part."""

    def __post_init__(self) -> None:
        _check(
            self.selection_metric in METRICS,
            f"evaluation.selection_metric must be one of {', '.join(METRICS)}.",
        )
        _check(
            self.selection_part in DECISION_PARTS,
            f"evaluation.selection_part must be one of {', '.join(DECISION_PARTS)}.",
        )

    @property
    def selection_key(self) -> str:
        """The logged metric the champion is chosen on, e.g. ``human_select_roc_auc``."""
        return f"{self.selection_part}_{self.selection_metric}"
        _check(
            self.threshold_metric in ("f1_negative", "accuracy", "f1_macro"),
            "evaluation.threshold_metric must be f1_negative, accuracy or f1_macro.",
        )


CALIBRATION_METHODS = ("none", "temperature", "isotonic")
THRESHOLD_RULES = ("metric", "cost")


@dataclass
class CalibrationConfig:
    """Calibrated P(negative) and the decision threshold (see :mod:`core.evaluation.calibration`).

    The calibrator and the threshold are fitted on one decision part (``fit_on``) and saved with the
    classifier, so the served P(negative) is the calibrated one.
    """

    fit_on: str = "human_select"
    """``human_select`` (the human-labelled ``select`` part, so P(negative) means what it says on
    real tweets) or ``val`` (the emoticon-labelled validation split)."""
    method: str = "none"
    """``none``, ``temperature`` (one T on the logit: ranking unchanged) or ``isotonic``."""
    threshold_rule: str = "metric"
    """``metric``: the threshold maximises ``evaluation.threshold_metric`` on validation;
    ``cost``: ``cost_false_alarm / (cost_false_alarm + cost_missed_negative)`` on calibrated P(negative)."""
    cost_missed_negative: float = 1.0
    """Cost of a negative tweet predicted positive (a complaint nobody answers)."""
    cost_false_alarm: float = 1.0
    """Cost of a positive tweet predicted negative (an agent reads it for nothing)."""
    ece_bins: int = 15
    """Equal-width bins of the expected calibration error."""

    def __post_init__(self) -> None:
        _check(
            self.method in CALIBRATION_METHODS,
            f"calibration.method must be one of {', '.join(CALIBRATION_METHODS)}, got '{self.method}'.",
        )
        _check(
            self.threshold_rule in THRESHOLD_RULES,
            f"calibration.threshold_rule must be one of {', '.join(THRESHOLD_RULES)}, got '{self.threshold_rule}'.",
        )
        _check(
            self.cost_missed_negative > 0 and self.cost_false_alarm > 0,
            "calibration costs (cost_missed_negative, cost_false_alarm) must be positive.",
        )
        _check(self.ece_bins >= 2, "calibration.ece_bins must be at least 2.")
        _check(
            self.fit_on in DECISION_PARTS,
            f"calibration.fit_on must be one of {', '.join(DECISION_PARTS)}, got '{self.fit_on}'.",
        )


LABEL_CLEANUP_METHODS = ("none", "cleanlab")


@dataclass
class NoiseConfig:
    """Noise-robust training data (see :mod:`core.data.label_noise`): applied to the training split only."""

    label_cleanup: str = "none"
    """``cleanlab``: drop training tweets that confident learning flags as mislabelled, from
    out-of-fold TF-IDF probabilities on train; ``none``: keep every label."""
    cleanup_folds: int = 5
    """Folds of the out-of-fold probabilities used by the cleanup."""
    date_balanced: bool = False
    """Train on a date-balanced subset: per day, as many positive as negative tweets (breaks the
    class/date confound of the emoticon-labelled data)."""

    def __post_init__(self) -> None:
        _check(
            self.label_cleanup in LABEL_CLEANUP_METHODS,
            f"noise.label_cleanup must be one of {', '.join(LABEL_CLEANUP_METHODS)}, got '{self.label_cleanup}'.",
        )
        _check(self.cleanup_folds >= 2, "noise.cleanup_folds must be at least 2.")


@dataclass
class EnsembleConfig:
    """A weighted ensemble over the session's runs, registered as one model (see :mod:`core.training.ensemble`)."""

    enabled: bool = False
    """Build, evaluate and register the ensemble after the session's runs."""
    fit_on: str = "human_select"
    """``human_select``: the weights maximise ROC AUC on the human-labelled ``select`` part, averaged
    over ``folds`` folds, the plain average kept unless a candidate beats it by more than one standard
    error; ``val_ood``: the older blend of validation and the out-of-domain selection half."""
    folds: int = 5
    """Folds of the human ``select`` part for the weight choice (and its cross-fitted estimate)."""
    members: tuple[str, ...] = ()
    """Run names (``family-variant``) to combine; empty: every run of the session."""
    ood_weight: float = 0.5
    """Weight of the out-of-domain selection half in the weight search (0: validation alone)."""
    ood_selection_fraction: float = 0.5
    """Share of the out-of-domain set used to choose the weights; the rest is reported as
    ``ood_heldout_*``, never used for a choice."""
    n_candidates: int = 200
    """Random (seeded Dirichlet) weight vectors tried, besides the plain average and each member alone."""
    top_k_averages: bool = True
    """``human_select`` also tries the plain average of the best 2, 3, ... members (ranked on
    ``select``): few, simple candidates between one member and all of them."""
    min_weight: float = 0.05
    """Members whose chosen weight is below this are dropped (the rest renormalised): each costs its
    full inference time and memory for a negligible share of the score. 0 keeps every member."""

    def __post_init__(self) -> None:
        self.members = tuple(self.members)
        _check(self.fit_on in ENSEMBLE_FITS, f"ensemble.fit_on must be one of {', '.join(ENSEMBLE_FITS)}.")
        _check(self.folds >= 2, "ensemble.folds must be at least 2.")
        _check(0.0 <= self.ood_weight <= 1.0, "ensemble.ood_weight must be in [0, 1].")
        _fraction(self.ood_selection_fraction, "ensemble.ood_selection_fraction")
        _check(self.n_candidates >= 0, "ensemble.n_candidates must not be negative.")
        _check(0.0 <= self.min_weight < 0.5, "ensemble.min_weight must be in [0, 0.5).")


@dataclass(frozen=True)
class Param:
    """One dimension of a hyper-parameter search space."""

    kind: str
    """``float``, ``int`` or ``categorical``."""
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        kinds = ("float", "int", "categorical")
        _check(self.kind in kinds, f"Param.kind must be float, int or categorical, got '{self.kind}'.")
        if self.kind == "categorical":
            _check(bool(self.choices), "A categorical Param needs choices.")
        else:
            _check(
                self.low is not None and self.high is not None and self.low <= self.high,
                "A numeric Param needs low <= high.",
            )


def _default_search_spaces() -> dict[str, dict[str, Param]]:
    return {
        "tfidf": {
            "C": Param("float", 0.1, 30.0, log=True),
            "word_ngram_max": Param("int", 1, 3),
            "char_ngram_max": Param("int", 3, 6),
        },
        "keras_embedding": {
            "learning_rate": Param("float", 3e-4, 1e-2, log=True),
            "dropout": Param("float", 0.0, 0.6),
            "embedding_dim": Param("categorical", choices=(32, 64, 128)),
            "batch_size": Param("categorical", choices=(64, 128, 256)),
            "epochs": Param("int", 2, 8),
        },
        "bert": {
            "learning_rate": Param("float", 1e-5, 1e-4, log=True),
            "batch_size": Param("categorical", choices=(16, 32)),
            "weight_decay": Param("float", 0.0, 0.1),
        },
    }


STORAGE_SCHEMES = ("sqlite", "postgresql", "postgres")
"""Optuna RDB storages a shared study may live in (``postgresql+psycopg://``: any driver suffix)."""


@dataclass
class TuningConfig:
    """Hyper-parameter optimisation with Optuna; every trial is a nested MLflow run.

    The final model of a tuned family is trained with the best trial's values, in the
    family's parent run. Without ``storage`` the study lives in memory and its trials run one
    after the other in this process; with it, ``workers`` processes here (and any started with
    ``air-paradise tune-worker`` on other machines) share one study per family and variant in that
    database (see :mod:`core.training.tuning_workers`).
    """

    families: tuple[str, ...] = ()
    """Families to tune before their final training (empty: no tuning)."""
    n_trials: int = 8
    """Finished trials per study, counted over every worker of a shared study."""
    timeout_s: float | None = None
    """Stop starting new trials after this many seconds (``None``: run all trials); in a shared
    study, each worker's own clock."""
    search_spaces: dict[str, dict[str, Param]] = field(default_factory=_default_search_spaces)
    """Family -> {config field -> Param}."""
    storage: str | None = None
    """Optuna RDB storage of shared studies: ``sqlite:///path/to/tuning.db`` (one machine) or
    ``postgresql+psycopg://user@host:5432/db`` (several); ``None``: the study lives in memory, in this
    process. No password in the URL (it is logged with the params): libpq reads ``PGPASSWORD`` or
    ``~/.pgpass``."""
    workers: int = 1
    """Worker processes started here on each shared study (more than 1 needs ``storage``)."""
    study_name: str | None = None
    """Prefix of the shared studies' names, ``NAME-family-variant``; ``None``:
    ``tune-family-variant-<fingerprint>``, the fingerprint hashing the data file and every setting a
    trial's score depends on, so every machine with the same settings finds the same study and a
    rerun of the same command resumes it."""
    heartbeat_s: int = 10
    """Seconds between the heartbeats a running trial of a shared study writes to the storage."""
    grace_period_s: int = 30
    """A running trial without a heartbeat for this long is failed (its worker died) and its
    values are tried once more."""
    trial_sleep_s: float = 0.0
    """Pause at the start of each trial of a shared study, after its values are drawn: a trial
    slow enough to kill, for the tests and demonstrations of the heartbeat; 0 otherwise."""

    def __post_init__(self) -> None:
        self.families = tuple(self.families)
        _check(self.n_trials >= 1, "tuning.n_trials must be at least 1.")
        for family in self.families:
            _check(family in self.search_spaces, f"tuning: no search space for family '{family}'.")
        if self.storage is not None:
            self.storage = self.storage.strip()
            _check_storage_url(self.storage)
        _check(self.workers >= 1, "tuning.workers must be at least 1.")
        _check(
            self.workers == 1 or self.storage is not None,
            "tuning.workers above 1 needs tuning.storage: the worker processes share the study through it.",
        )
        if self.study_name is not None:
            self.study_name = self.study_name.strip()
            _check(
                0 < len(self.study_name) <= 200,
                "tuning.study_name must not be empty nor longer than 200 characters.",
            )
        _check(self.heartbeat_s >= 1, "tuning.heartbeat_s must be at least 1.")
        _check(
            self.grace_period_s > self.heartbeat_s,
            "tuning.grace_period_s must be longer than tuning.heartbeat_s.",
        )
        _check(self.trial_sleep_s >= 0, "tuning.trial_sleep_s must not be negative.")


def _check_storage_url(url: str) -> None:
    """Refuse a storage URL that several processes could not share, or that holds a password."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    _check(
        scheme in STORAGE_SCHEMES and "://" in url,
        f"tuning.storage must be a sqlite:/// or postgresql:// URL, not '{parts.scheme or url[:20]}'.",
    )
    _check(
        scheme != "sqlite" or url.removeprefix(parts.scheme + "://").strip("/") not in ("", ":memory:"),
        "tuning.storage: an in-memory SQLite database cannot be shared; give a file (sqlite:///path).",
    )
    _check(
        parts.password is None,
        "tuning.storage must not hold a password (it is logged with the params): set PGPASSWORD or ~/.pgpass.",
    )


@dataclass
class TrackingConfig:
    """MLflow tracking store, experiment and model registry names."""

    tracking_uri: str | None = None
    """``None``: ``$MLFLOW_TRACKING_URI``, else a SQLite store in ``.mlflow/`` of the project."""
    store_dir: Path = DEFAULT_STORE_DIR
    experiment: str = "air-paradise-sentiment"
    registered_model: str = "air-paradise-sentiment"
    champion_alias: str = "champion"

    def __post_init__(self) -> None:
        self.store_dir = Path(self.store_dir)
        _check(bool(self.experiment.strip()), "tracking.experiment must not be empty.")
        _check(bool(self.registered_model.strip()), "tracking.registered_model must not be empty.")

    def resolved_uri(self) -> str:
        """``tracking_uri``, then ``$MLFLOW_TRACKING_URI``, then the embedded SQLite store."""
        if self.tracking_uri:
            return self.tracking_uri
        if os.environ.get("MLFLOW_TRACKING_URI"):
            return os.environ["MLFLOW_TRACKING_URI"]
        return f"sqlite:///{(self.store_dir / 'mlflow.db').resolve()}"


RUNTIME_NAMES = ("auto", "native", "onnx", "onnx_int8")
"""What may compute a model's scores (``API_MODEL_RUNTIME``): ``native`` (the family's framework), its
ONNX Runtime scorer on the fp32 or int8 graph, or ``auto`` (the fastest export kept, else ``native``)."""


@dataclass
class ServingConfig:
    """What the deployed API can serve: the serving budget a champion must meet, and the image it runs in.

    At registration every version is loaded on ``runtime`` (the API's), which records the
    distributions it needs (``serving_requirements``) and whether the API image
    (``image_requirements``) installs them all. With ``measure``, the version is also loaded in a
    fresh process that measures single-tweet latency (p50, p99), batch throughput and peak resident
    memory (:mod:`core.serving.cost`). The champion is the best version on the selection metric
    among those the image can load and, where measured, within budget.
    """

    runtime: str = "auto"
    """The runtime measured and checked: the API's default ``API_MODEL_RUNTIME``."""
    image_requirements: Path = PROJECT_ROOT / "requirements-api.txt"
    """The pinned requirements the API image installs (``docker/api.Dockerfile``)."""
    measure: bool = True
    """Measure latency, throughput and memory in a fresh process (seconds per version)."""
    max_p50_ms: float | None = 10.0
    max_p99_ms: float | None = None
    max_rss_mb: float | None = 600.0
    min_tweets_per_s: float | None = None
    single_requests: int = 200
    """Single-tweet calls timed for p50/p99."""
    batch_size: int = 64
    batch_seconds: float = 3.0
    """How long batches are scored for the throughput."""

    def __post_init__(self) -> None:
        self.image_requirements = Path(self.image_requirements)
        _check(self.runtime in RUNTIME_NAMES, f"serving.runtime must be one of {', '.join(RUNTIME_NAMES)}.")
        for name in ("max_p50_ms", "max_p99_ms", "max_rss_mb", "min_tweets_per_s"):
            value = getattr(self, name)
            _check(value is None or value > 0, f"serving.{name} must be positive (or none).")
        _check(self.single_requests >= 10, "serving.single_requests must be at least 10.")
        _check(self.batch_size >= 1, "serving.batch_size must be at least 1.")
        _check(self.batch_seconds > 0, "serving.batch_seconds must be positive.")


@dataclass
class PipelineConfig:
    """The whole configuration of one training session."""

    profile: str = "custom"
    families: tuple[str, ...] = ("tfidf",)
    """Model families to train, simplest first (profiles ``quick``/``full`` train all of them)."""
    preprocessing: tuple[str, ...] = PREPROCESSING_VARIANTS
    """Variants for families whose config does not pin its own ``preprocessing``."""
    seed: int = 42
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    tuning: TuningConfig = field(default_factory=TuningConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    serving: ServingConfig = field(default_factory=ServingConfig)
    cache_dir: Path = DEFAULT_CACHE_DIR
    reports_dir: Path = DEFAULT_REPORTS_DIR

    def __post_init__(self) -> None:
        self.families = tuple(self.families)
        self.preprocessing = tuple(self.preprocessing)
        self.cache_dir = Path(self.cache_dir)
        self.reports_dir = Path(self.reports_dir)
        _check(bool(self.families), "At least one model family must be chosen.")
        _check(bool(self.preprocessing), "At least one preprocessing variant must be chosen.")
        for variant in self.preprocessing:
            _check(
                variant in PREPROCESSING_VARIANTS,
                f"Unknown preprocessing variant '{variant}': choose from {', '.join(PREPROCESSING_VARIANTS)}.",
            )
        for family in self.families:
            self.models.for_family(family)
        if not self.data.human:
            human_decisions = [
                key
                for key, part in (
                    ("evaluation.selection_part", self.evaluation.selection_part),
                    ("calibration.fit_on", self.calibration.fit_on),
                    ("ensemble.fit_on", self.ensemble.fit_on if self.ensemble.enabled else "val"),
                )
                if part == "human_select"
            ]
            _check(
                not human_decisions,
                f"data.human=false leaves no human-labelled tweets to decide on: set {', '.join(human_decisions)} "
                "to val (ensemble.fit_on to val_ood), or keep data.human=true.",
            )
        for family in self.tuning.families:
            config_fields = {f.name for f in dataclasses.fields(self.models.for_family(family))}
            unknown = set(self.tuning.search_spaces[family]) - config_fields
            _check(not unknown, f"tuning: {family} has no parameter(s) {', '.join(sorted(unknown))}.")

    def variants_for(self, family: str) -> tuple[str, ...]:
        """The preprocessing variants one family is trained on."""
        pinned = getattr(self.models.for_family(family), "preprocessing", None)
        return tuple(pinned) if pinned else self.preprocessing


def flatten(config: Any, prefix: str = "") -> dict[str, str]:
    """The config as flat ``section.key -> str`` pairs, for MLflow parameters."""
    out: dict[str, str] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, key + "."))
        elif isinstance(value, (tuple, list)):
            out[key] = ",".join(map(str, value))
        else:
            out[key] = str(value)
    return out
