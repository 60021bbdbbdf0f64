"""Model families, registered by name and imported lazily.

Lazy import keeps serving light: loading a TF-IDF champion never imports TensorFlow or torch.
Adding a family = one module implementing :class:`core.models.base.SentimentModel` and its
config dataclass with one field of :class:`core.config.ModelsConfig` naming that module.

The registry resolves ``module:Class`` names with :mod:`importlib` on purpose: a family's module
loads its framework (TensorFlow, torch) at import time, and serving imports only the one it needs.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from core.config import RUNTIME_NAMES
from core.config.families import FAMILY_MODELS
from core.errors import ConfigError, ModelNotFoundError
from core.models.base import SentimentModel, SentimentScorer

FAMILIES: dict[str, str] = FAMILY_MODELS
"""Family name -> ``module:Class``, from :class:`core.config.ModelsConfig` (the one list of families)."""

# Scorers built from other saved classifiers rather than trained by the family loop (load only).
COMBINED: dict[str, str] = {
    "ensemble": "core.models.ensemble:EnsembleScorer",
}

# Inference-only scorers a family may ship beside its own load(), by runtime name.
_BERT_ONNX = {
    "onnx": "core.models.bert_onnx:OnnxBertScorer",
    "onnx_int8": "core.models.bert_onnx:OnnxInt8BertScorer",
}
SERVING_RUNTIMES: dict[str, dict[str, str]] = {"bert": _BERT_ONNX, "distilled": _BERT_ONNX}
RUNTIMES = RUNTIME_NAMES
"""``native``: the family's own framework; ``onnx``/``onnx_int8``: its ONNX Runtime scorer on the
fp32/int8 graph; ``auto``: the first of :data:`AUTO_ORDER` the model has, else ``native``."""
AUTO_ORDER = ("onnx_int8", "onnx")
"""The exports ``auto`` serves, fastest first (int8 is kept at save time only within 0.02 of the
family's own P(negative) on average, 0.25 at most; the serving budget needs its speed: see the README)."""


def _import(target: str) -> type:
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_family(name: str) -> type[SentimentModel]:
    """The model class registered under ``name``.

    Raises:
        ConfigError: unknown family name.
    """
    try:
        target = FAMILIES[name]
    except KeyError:
        raise ConfigError(f"Unknown model family '{name}': choose from {', '.join(FAMILIES)}.") from None
    return _import(target)


def load_scorer(family: str, folder: Path, runtime: str = "auto") -> SentimentScorer:
    """Load a saved model of ``family`` from ``folder`` for inference on the chosen runtime.

    ``auto`` takes the fastest export the folder holds (no training framework imported): the int8
    graph where it was kept (within its tolerance of the family's own scores at save time), else
    the fp32 graph, else the family's own ``load``.

    Raises:
        ConfigError: unknown family or runtime.
        ModelNotFoundError: an ONNX runtime asked for a model that has no such export.
    """
    if runtime not in RUNTIMES:
        raise ConfigError(f"Unknown runtime '{runtime}': choose from {', '.join(RUNTIMES)}.")
    if family in COMBINED:
        return _import(COMBINED[family]).load(folder, runtime)
    if runtime == "native":
        return get_family(family).load(folder)
    for name in AUTO_ORDER if runtime == "auto" else (runtime,):
        target = SERVING_RUNTIMES.get(family, {}).get(name)
        scorer = _import(target) if target else None
        if scorer is not None and scorer.available(folder):
            return scorer.load(folder)
    if runtime != "auto":
        raise ModelNotFoundError(f"The {family} model in {folder} has no {runtime} export; use the native runtime.")
    return get_family(family).load(folder)
