"""What every Keras family shares: backend set-up, compile, fit with early stopping, predict, save/load.

Importing this module selects the TensorFlow backend (unless ``KERAS_BACKEND`` says
otherwise) and quiets TensorFlow's C++ logs; only Keras families import it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from core.data.preprocessing import tokenize  # noqa: E402
from core.models.base import SentimentModel, log_learning_curve  # noqa: E402

MODEL_FILE = "model.keras"


def compile_binary(model: keras.Model, learning_rate: float, label_smoothing: float = 0.0) -> keras.Model:
    """Adam + binary cross-entropy on a sigmoid output that is P(negative).

    ``label_smoothing`` > 0 trains towards ``1 - s/2`` and ``s/2`` instead of 1 and 0: the model is not
    pushed to full confidence on labels that are often wrong (emoticon labels).
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing),
        metrics=[keras.metrics.AUC(name="auc")],
    )
    return model


class LearningCurveLogger(keras.callbacks.Callback):
    """Logs each epoch's training and validation loss as MLflow metric steps (step = epoch, from 1)
    into the active run, if any (:func:`core.models.base.log_learning_curve`)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        if "loss" in logs and "val_loss" in logs:
            log_learning_curve(epoch + 1, logs["loss"], logs["val_loss"])


def fit_early_stopping(
    model: keras.Model,
    x_train: Any,
    y_train: np.ndarray,
    x_val: Any,
    y_val: np.ndarray,
    *,
    batch_size: int,
    epochs: int,
    patience: int,
    seed: int,
) -> dict[str, float]:
    """Fit with early stopping on validation loss, keeping the best epoch's weights.

    Validation is used only to decide when to stop; weights are fitted on train. Each epoch's
    ``train_loss`` and ``val_loss`` go to the active MLflow run, if any (the learning curve).

    Returns:
        ``epochs_run`` and ``best_val_loss``.
    """
    keras.utils.set_random_seed(seed)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(
        x_train,
        np.asarray(y_train, dtype="float32"),
        validation_data=(x_val, np.asarray(y_val, dtype="float32")),
        batch_size=batch_size,
        epochs=epochs,
        callbacks=[stop, LearningCurveLogger()],
        verbose=1 if sys.stderr.isatty() else 2,
    )
    return {"epochs_run": float(len(history.history["loss"])), "best_val_loss": float(min(history.history["val_loss"]))}


def predict_probability(model: keras.Model, x: Any, batch_size: int = 256) -> np.ndarray:
    """The sigmoid output as a float64 vector of P(negative)."""
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64).reshape(-1)


def save_model(model: keras.Model, folder: Path) -> None:
    """Write the model (architecture and weights, no optimizer state) as one ``.keras`` file."""
    without_optimizer(model).save(Path(folder) / MODEL_FILE)


def load_model(folder: Path, custom_objects: dict[str, Any] | None = None) -> keras.Model:
    """Read a model written by :func:`save_model`."""
    return keras.models.load_model(Path(folder) / MODEL_FILE, custom_objects=custom_objects, compile=False)


# --- Token-sequence families (keras_embedding, lstm_*): vectorizer, fit, predict, save/load ---------------

STATE_FILE = "keras_state.json"


def token_strings(texts: list[str]) -> list[str]:
    """Each cleaned text as its project tokens (:func:`core.data.preprocessing.tokenize`) joined by single spaces.

    A whitespace split of the result is then exactly the project tokenizer, so the vectorizer needs no
    custom (unserialisable) standardize/split function.
    """
    return [" ".join(tokenize(text)) for text in texts]


def make_vectorizer(
    sequence_length: int, max_tokens: int | None = None, vocabulary: list[str] | None = None
) -> keras.layers.TextVectorization:
    """A whitespace-splitting ``TextVectorization`` producing padded/truncated id sequences.

    Id 0 is padding and id 1 the out-of-vocabulary token; ``vocabulary`` (without those two)
    rebuilds a saved vectorizer exactly.
    """
    return keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=None,
        split="whitespace",
        output_mode="int",
        output_sequence_length=sequence_length,
        vocabulary=vocabulary,
    )


def adapt_vectorizer(tokens: list[str], max_tokens: int, sequence_length: int) -> keras.layers.TextVectorization:
    """A vectorizer whose vocabulary (the ``max_tokens`` most frequent tokens) comes from ``tokens`` only."""
    vectorizer = make_vectorizer(sequence_length, max_tokens=max_tokens)
    vectorizer.adapt(tokens, batch_size=4096)
    return vectorizer


def vocabulary_of(vectorizer: keras.layers.TextVectorization) -> list[str]:
    """The vectorizer's words as plain strings, without the padding and OOV entries (ids 2, 3, ...)."""
    return [str(word) for word in vectorizer.get_vocabulary(include_special_tokens=False)]


def vectorize(vectorizer: keras.layers.TextVectorization, tokens: list[str], chunk: int = 8192) -> np.ndarray:
    """Token strings -> int32 id matrix of shape (n, sequence_length)."""
    if not tokens:
        return np.zeros((0, vectorizer.get_config()["output_sequence_length"]), dtype=np.int32)
    parts = [np.asarray(vectorizer(tokens[i : i + chunk])) for i in range(0, len(tokens), chunk)]
    return np.concatenate(parts).astype(np.int32)


def without_optimizer(model: keras.Model) -> keras.Model:
    """An uncompiled copy with the same weights: saving it leaves out the optimizer state (Adam's
    two moments would triple the file), which inference never reads."""
    copy = keras.Model.from_config(model.get_config())  # clone_model would compile the copy
    copy.set_weights(model.get_weights())
    return copy


class TokenSequenceModel(SentimentModel):
    """Shared body of the Keras families that read token-id sequences.

    The ``TextVectorization`` is adapted on train texts only and kept outside the network
    (its vocabulary is saved in ``keras_state.json`` next to ``model.keras``), so training
    and prediction run on integer ids. Subclasses build the network.

    The config must have ``max_tokens``, ``sequence_length``, ``learning_rate``,
    ``batch_size``, ``epochs`` and ``patience``.
    """

    config_class: ClassVar[type]

    def __init__(self, config: Any = None, seed: int = 42, cache_dir: Path | None = None) -> None:
        super().__init__(config if config is not None else self.config_class(), seed, cache_dir)
        self.vectorizer: keras.layers.TextVectorization | None = None
        self.model: keras.Model | None = None

    @abstractmethod
    def build_network(self, train_tokens: list[str]) -> keras.Model:
        """The uncompiled network on id sequences (``self.vectorizer`` is already adapted)."""

    def network_facts(self) -> dict[str, float]:
        """Family-specific training facts (override to add some)."""
        return {}

    @property
    def vocabulary(self) -> list[str]:
        """The vectorizer's words (ids 2, 3, ...), learned from train texts."""
        self._check_fitted()
        return vocabulary_of(self.vectorizer)

    def fit(self, train_texts, train_labels, val_texts, val_labels) -> dict[str, float]:
        """Adapt the vectorizer on train, build, fit with early stopping on validation loss."""
        cfg = self.config
        train_tokens = token_strings(train_texts)
        self.vectorizer = adapt_vectorizer(train_tokens, cfg.max_tokens, cfg.sequence_length)
        keras.utils.set_random_seed(self.seed)
        self.model = compile_binary(
            self.build_network(train_tokens), cfg.learning_rate, getattr(cfg, "label_smoothing", 0.0)
        )
        facts = fit_early_stopping(
            self.model,
            vectorize(self.vectorizer, train_tokens),
            train_labels,
            self.ids(val_texts),
            val_labels,
            batch_size=cfg.batch_size,
            epochs=cfg.epochs,
            patience=cfg.patience,
            seed=self.seed,
        )
        return {"vocab_size": float(len(self.vectorizer.get_vocabulary())), **facts, **self.network_facts()}

    def ids(self, texts: list[str]) -> np.ndarray:
        """Cleaned texts -> int32 id matrix (n, sequence_length)."""
        self._check_fitted()
        return vectorize(self.vectorizer, token_strings(texts))

    def is_fitted(self) -> bool:
        """Whether the vectorizer and the network exist (fitted or loaded)."""
        return self.vectorizer is not None and self.model is not None

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return predict_probability(self.model, self.ids(texts))

    def save(self, folder: Path) -> None:
        """Write ``model.keras`` and ``keras_state.json`` (config, seed, vocabulary)."""
        self._check_fitted()
        save_model(self.model, folder)
        state = {
            "family": self.family,
            "seed": self.seed,
            "config": dataclasses.asdict(self.config),
            "vocabulary": self.vocabulary,
        }
        (Path(folder) / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> TokenSequenceModel:
        """Rebuild a model written by :meth:`save`: same vocabulary, same weights, same probabilities."""
        state = json.loads((Path(folder) / STATE_FILE).read_text(encoding="utf-8"))
        known = {f.name for f in dataclasses.fields(cls.config_class)}
        config = cls.config_class(**{k: v for k, v in state["config"].items() if k in known})
        model = cls(config, seed=state["seed"])
        model.vectorizer = make_vectorizer(config.sequence_length, vocabulary=state["vocabulary"])
        model.model = load_model(folder)
        return model

    def _check_fitted(self) -> None:
        if not self.is_fitted():
            raise RuntimeError(f"{type(self).__name__} used before fit or load.")
