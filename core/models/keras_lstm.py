"""(Bi-)LSTM on word vectors trained with gensim (Word2Vec or FastText) on the training split only.

Network: token ids -> Embedding initialised from the word vectors (frozen or fine-tuned,
``trainable_embedding``) -> Masking (zero vectors are skipped) -> (Bi)LSTM -> Dropout ->
Dense(1, sigmoid). The vectorizer vocabulary is every training token (up to ``max_tokens``);
padding, out-of-vocabulary ids and words without a vector have zero vectors and are skipped.

Unseen words at inference:

* Word2Vec: a word outside the vocabulary has no vector and is skipped.
* FastText: prediction looks vectors up outside Keras and runs the network's ``head``
  (everything after the embedding) on them, so every out-of-vocabulary token gets its FastText
  vector built from its character n-grams (``delayyyed`` lands near ``delayed``). The FastText
  vectors are saved next to the model (``fasttext.kv``; size grows with ``fasttext_bucket``), so
  a reloaded model gives identical probabilities. Training words beyond ``max_tokens`` are
  skipped while training, embedded at inference. With ``trainable_embedding`` the fine-tuned
  rows drift from the FastText space the unseen-word vectors come from; frozen (the default),
  both are the same space.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from core.config import LstmConfig
from core.errors import ConfigError
from core.models.keras_common import TokenSequenceModel, keras, predict_probability, token_strings, vocabulary_of
from core.models.word_vectors import embedding_matrix, load_vectors, save_vectors, train_vectors, word_vector

OOV_ID = 1
"""TextVectorization's id of out-of-vocabulary tokens (0 is padding)."""
_PREDICT_CHUNK = 4096
"""Texts whose (n, sequence_length, vector_size) vectors are built at once when predicting."""


class LstmModel(TokenSequenceModel):
    """(Bi-)LSTM over an embedding initialised from gensim vectors; subclasses choose the vectors."""

    config_class = LstmConfig
    requirements = ("tensorflow", "keras")
    embedding_source: ClassVar[str]

    def __init__(self, config: LstmConfig | None = None, seed: int = 42, cache_dir: Path | None = None) -> None:
        default = LstmConfig(embedding_source=self.embedding_source)
        super().__init__(config if config is not None else default, seed, cache_dir)
        if self.config.embedding_source != self.embedding_source:
            raise ConfigError(
                f"{self.family} needs embedding_source '{self.embedding_source}', got '{self.config.embedding_source}'."
            )
        self.vectors = None
        """The gensim vectors trained by :meth:`fit` (FastText: also restored by :meth:`load`)."""

    def build_network(self, train_tokens: list[str]) -> keras.Model:
        """Train the word vectors on the training tokens, then build embedding -> head."""
        cfg = self.config
        self.vectors = train_vectors(self.embedding_source, [t.split() for t in train_tokens], cfg, self.seed)
        matrix = embedding_matrix(vocabulary_of(self.vectorizer), self.vectors)
        inputs = keras.Input(shape=(cfg.sequence_length,), dtype="int32", name="ids")
        embedding = keras.layers.Embedding(
            matrix.shape[0], matrix.shape[1], trainable=cfg.trainable_embedding, name="embedding"
        )
        x = embedding(inputs)
        embedding.set_weights([matrix])
        return keras.Model(inputs, self._head(matrix.shape[1])(x), name=self.family)

    def _head(self, vector_size: int) -> keras.Model:
        """Everything after the embedding, on (sequence_length, vector_size) vectors."""
        cfg = self.config
        lstm = keras.layers.LSTM(cfg.lstm_units)
        return keras.Sequential(
            [
                keras.Input(shape=(cfg.sequence_length, vector_size), name="vectors"),
                keras.layers.Masking(mask_value=0.0),
                keras.layers.Bidirectional(lstm) if cfg.bidirectional else lstm,
                keras.layers.Dropout(cfg.dropout),
                keras.layers.Dense(1, activation="sigmoid", name="p_negative"),
            ],
            name="head",
        )

    def network_facts(self) -> dict[str, float]:
        """How many words have vectors, and how many vocabulary words got a non-zero row."""
        rows = self.embedding_weights()[2:]
        return {
            "word_vectors": float(len(self.vectors.key_to_index)),
            "vocab_with_vector": float(np.count_nonzero(np.abs(rows).sum(axis=1))),
        }

    def embedding_weights(self) -> np.ndarray:
        """The embedding matrix as the network now holds it (fine-tuned or frozen)."""
        self._check_fitted()
        return self.model.get_layer("embedding").get_weights()[0]

    def unseen_vectors(self, words: set[str]) -> dict[str, np.ndarray]:
        """Vectors for out-of-vocabulary words at inference (none by default: they are skipped)."""
        return {}

    def sequence_vectors(self, texts: list[str]) -> np.ndarray:
        """Cleaned texts -> (n, sequence_length, vector_size) float32 network input."""
        tokens = token_strings(texts)
        ids = self.ids(texts)
        vectors = self.embedding_weights()[ids]
        rows, cols = np.nonzero(ids == OOV_ID)
        words = [tokens[r].split()[c] for r, c in zip(rows, cols, strict=True)]
        found = self.unseen_vectors(set(words))
        for r, c, word in zip(rows, cols, words, strict=True):
            if word in found:
                vectors[r, c] = found[word]
        return vectors

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        """The head on looked-up vectors, so that unseen words can be embedded (FastText)."""
        head = self.model.get_layer("head")
        parts = [
            predict_probability(head, self.sequence_vectors(texts[i : i + _PREDICT_CHUNK]))
            for i in range(0, len(texts), _PREDICT_CHUNK)
        ]
        return np.concatenate(parts)


class Word2VecLstmModel(LstmModel):
    """LSTM on Word2Vec vectors; words without a vector are skipped."""

    family = "lstm_word2vec"
    embedding_source = "word2vec"


class FastTextLstmModel(LstmModel):
    """LSTM on FastText vectors; unseen words at inference get vectors from their character n-grams."""

    family = "lstm_fasttext"
    embedding_source = "fasttext"
    requirements = ("tensorflow", "keras", "gensim")
    _VECTORS_FILE = "fasttext.kv"

    def unseen_vectors(self, words: set[str]) -> dict[str, np.ndarray]:
        """FastText vectors of out-of-vocabulary words, built from their character n-grams."""
        return {word: word_vector(self.vectors, word) for word in words}

    def save(self, folder: Path) -> None:
        """The Keras model and vocabulary, plus the FastText vectors for unseen words."""
        super().save(folder)
        save_vectors(self.vectors, Path(folder) / self._VECTORS_FILE)

    @classmethod
    def load(cls, folder: Path) -> FastTextLstmModel:
        """Rebuild a model written by :meth:`save`, FastText vectors included."""
        model = super().load(folder)
        model.vectors = load_vectors(Path(folder) / cls._VECTORS_FILE)
        return model
