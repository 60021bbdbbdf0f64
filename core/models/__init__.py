"""Model families, registered by name and imported lazily.

Lazy import keeps serving light: loading a TF-IDF champion never imports TensorFlow or torch.
Adding a family = one module implementing :class:`core.models.base.SentimentModel`, its
config dataclass in :mod:`core.config`, and one line here.
"""

from __future__ import annotations

import importlib

from core.errors import ConfigError
from core.models.base import SentimentModel

FAMILIES: dict[str, str] = {
    "tfidf": "core.models.tfidf:TfidfModel",
    "keras_embedding": "core.models.keras_embedding:KerasEmbeddingModel",
    "lstm_word2vec": "core.models.keras_lstm:Word2VecLstmModel",
    "lstm_fasttext": "core.models.keras_lstm:FastTextLstmModel",
    "use": "core.models.use:UseModel",
    "bert": "core.models.bert:BertModel",
}


def get_family(name: str) -> type[SentimentModel]:
    """The model class registered under ``name``.

    Raises:
        ConfigError: unknown family name.
    """
    try:
        module_name, class_name = FAMILIES[name].split(":")
    except KeyError:
        raise ConfigError(f"Unknown model family '{name}': choose from {', '.join(FAMILIES)}.") from None
    return getattr(importlib.import_module(module_name), class_name)
