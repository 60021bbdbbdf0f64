"""Keras model with an embedding trained from scratch: ids -> Embedding -> mean+max pooling -> dense -> P(negative)."""

from __future__ import annotations

from pathlib import Path

from core.config import KerasEmbeddingConfig
from core.models.keras_common import TokenSequenceModel, keras


@keras.saving.register_keras_serializable(package="core")
class MaskedMeanMaxPooling(keras.layers.Layer):
    """Mean and max over the unmasked time steps, concatenated; an all-padding text pools to zeros.

    Keras' own pooling divides by zero (mean) or ignores the mask (max) on such inputs.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        ops = keras.ops
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:-1], dtype="bool")
        keep = ops.expand_dims(ops.cast(mask, "bool"), -1)
        count = ops.sum(ops.cast(keep, inputs.dtype), axis=1)
        mean = ops.sum(ops.where(keep, inputs, 0.0), axis=1) / ops.maximum(count, 1.0)
        peak = ops.max(ops.where(keep, inputs, float("-inf")), axis=1)
        peak = ops.where(count > 0, peak, 0.0)
        return ops.concatenate([mean, peak], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])


class KerasEmbeddingModel(TokenSequenceModel):
    """TextVectorization (train only) -> trained Embedding -> masked mean+max pooling -> Dense(relu) -> sigmoid."""

    family = "keras_embedding"
    requirements = ("tensorflow", "keras")
    config_class = KerasEmbeddingConfig

    def __init__(self, config: KerasEmbeddingConfig | None = None, seed: int = 42, cache_dir: Path | None = None):
        super().__init__(config, seed, cache_dir)

    def build_network(self, train_tokens: list[str]) -> keras.Model:
        """The network on id sequences; the embedding is learned from scratch."""
        cfg = self.config
        inputs = keras.Input(shape=(cfg.sequence_length,), dtype="int32", name="ids")
        x = keras.layers.Embedding(
            len(self.vectorizer.get_vocabulary()), cfg.embedding_dim, mask_zero=True, name="embedding"
        )(inputs)
        x = MaskedMeanMaxPooling(name="pooling")(x)
        x = keras.layers.Dropout(cfg.dropout)(x)
        x = keras.layers.Dense(cfg.hidden_units, activation="relu")(x)
        x = keras.layers.Dropout(cfg.dropout)(x)
        outputs = keras.layers.Dense(1, activation="sigmoid", name="p_negative")(x)
        return keras.Model(inputs, outputs, name="keras_embedding")
