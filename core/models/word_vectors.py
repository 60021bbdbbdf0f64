"""Word vectors trained with gensim on the training split only: Word2Vec and FastText.

Training uses one worker thread and the run's seed, so the vectors are reproducible: gensim 4
draws its initial vectors from ``numpy.random.default_rng(seed)`` (no Python ``hash``), and
with a single worker the order of updates is fixed (checked: identical vectors across processes
with different ``PYTHONHASHSEED``). More workers would make the vectors depend on thread scheduling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from gensim.models import FastText, KeyedVectors, Word2Vec
from gensim.models.fasttext import FastTextKeyedVectors

from core.config import LstmConfig
from core.errors import ConfigError

logger = logging.getLogger(__name__)

WORKERS = 1
"""One thread: reproducible vectors (see the module docstring)."""


def _train(model: Word2Vec, sentences: list[list[str]], config: LstmConfig) -> Word2Vec:
    """Build the vocabulary of ``sentences`` and train ``model`` on them."""
    model.build_vocab(sentences)
    if len(model.wv) == 0:
        raise ConfigError(
            f"No training word occurs {config.min_count} times or more; lower lstm.min_count or add training data."
        )
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    logger.info("%s: %d words with vectors of size %d", type(model).__name__, len(model.wv), model.vector_size)
    return model


def _params(config: LstmConfig, seed: int) -> dict:
    """Parameters shared by both gensim models."""
    return {
        "vector_size": config.vector_size,
        "window": config.window,
        "min_count": config.min_count,
        "epochs": config.embedding_epochs,
        "sg": int(config.skip_gram),
        "seed": seed,
        "workers": WORKERS,
    }


def train_word2vec(sentences: list[list[str]], config: LstmConfig, seed: int) -> KeyedVectors:
    """Word2Vec vectors of the words occurring at least ``config.min_count`` times in ``sentences``."""
    return _train(Word2Vec(**_params(config, seed)), sentences, config).wv


def train_fasttext(sentences: list[list[str]], config: LstmConfig, seed: int) -> FastTextKeyedVectors:
    """FastText vectors: whole words above ``min_count`` plus character n-grams hashed into ``fasttext_bucket``
    buckets, so any word (rare or never seen) gets a vector from its subwords."""
    return _train(FastText(bucket=config.fasttext_bucket, **_params(config, seed)), sentences, config).wv


TRAINERS: dict[str, Callable[[list[list[str]], LstmConfig, int], KeyedVectors]] = {
    "word2vec": train_word2vec,
    "fasttext": train_fasttext,
}


def train_vectors(source: str, sentences: list[list[str]], config: LstmConfig, seed: int) -> KeyedVectors:
    """Train the vectors of ``source`` (``word2vec`` or ``fasttext``) on tokenised training sentences."""
    try:
        trainer = TRAINERS[source]
    except KeyError:
        raise ConfigError(f"Unknown embedding source '{source}': choose from {', '.join(TRAINERS)}.") from None
    return trainer(sentences, config, seed)


def word_vector(vectors: KeyedVectors, word: str) -> np.ndarray | None:
    """The vector of ``word``; ``None`` if it has none (Word2Vec: below ``min_count`` or never seen).

    FastText always answers, from the word's character n-grams when it is not in its vocabulary.
    """
    if isinstance(vectors, FastTextKeyedVectors) and vectors.bucket > 0:
        return vectors.get_vector(word)
    if word in vectors.key_to_index:
        return vectors.get_vector(word)
    return None


def embedding_matrix(vocabulary: list[str], vectors: KeyedVectors, reserved: int = 2) -> np.ndarray:
    """Rows for ``reserved`` special ids (padding, OOV) then one per vocabulary word, float32.

    Special rows and words without a vector are all zeros (the LSTM masks zero vectors, so such
    words are skipped).
    """
    matrix = np.zeros((reserved + len(vocabulary), vectors.vector_size), dtype=np.float32)
    for row, word in enumerate(vocabulary, start=reserved):
        vector = word_vector(vectors, word)
        if vector is not None:
            matrix[row] = vector
    return matrix


def save_vectors(vectors: KeyedVectors, path: Path) -> None:
    """Write vectors with gensim (large arrays go to ``.npy`` files beside ``path``)."""
    vectors.save(str(path))


def load_vectors(path: Path) -> KeyedVectors:
    """Read vectors written by :func:`save_vectors`."""
    return KeyedVectors.load(str(path))
