"""What every Keras family shares: backend set-up, compile, fit with early stopping, predict, save/load.

Importing this module selects the TensorFlow backend (unless ``KERAS_BACKEND`` says
otherwise) and quiets TensorFlow's C++ logs; only Keras families import it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

MODEL_FILE = "model.keras"


def compile_binary(model: keras.Model, learning_rate: float) -> keras.Model:
    """Adam + binary cross-entropy on a sigmoid output that is P(negative)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(name="auc")],
    )
    return model


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

    Validation is used only to decide when to stop; weights are fitted on train.

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
        callbacks=[stop],
        verbose=1 if sys.stderr.isatty() else 2,
    )
    return {"epochs_run": float(len(history.history["loss"])), "best_val_loss": float(min(history.history["val_loss"]))}


def predict_probability(model: keras.Model, x: Any, batch_size: int = 256) -> np.ndarray:
    """The sigmoid output as a float64 vector of P(negative)."""
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64).reshape(-1)


def save_model(model: keras.Model, folder: Path) -> None:
    """Write the model (architecture, weights, preprocessing layers) as one ``.keras`` file."""
    model.save(Path(folder) / MODEL_FILE)


def load_model(folder: Path, custom_objects: dict[str, Any] | None = None) -> keras.Model:
    """Read a model written by :func:`save_model`."""
    return keras.models.load_model(Path(folder) / MODEL_FILE, custom_objects=custom_objects, compile=False)
