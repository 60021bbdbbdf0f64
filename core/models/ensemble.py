"""A weighted ensemble of saved classifiers, served like any single model.

P(negative) is ``sigmoid(sum_i w_i * logit(p_i))`` over the members' own (calibrated)
P(negative), weights summing to 1. Each member is a whole :class:`core.models.classifier.SentimentClassifier`
(its own preprocessing variant, model and calibrator), saved under ``member_<i>/`` of the
ensemble's folder, next to ``ensemble.json`` (weights and member names). The texts the
ensemble receives are cleaned (preprocessing ``none``); each member cleans again and applies
its own variant.

The weights are chosen by :mod:`core.training.ensemble`; this module only scores, saves and loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from core.errors import ModelNotFoundError
from core.models.base import SentimentScorer
from core.models.classifier import SentimentClassifier

_FILE = "ensemble.json"
_EPS = 1e-6


def combine(member_probabilities: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Weighted mean of the members' logits, back to a probability.

    Args:
        member_probabilities: one P(negative) array per member, same length.
        weights: one non-negative weight per member (normalised here).
    """
    weights = np.asarray(weights, dtype=np.float64)
    weights = weights / weights.sum()
    stacked = logit(np.clip(np.vstack(member_probabilities), _EPS, 1 - _EPS))
    return expit(weights @ stacked)


class EnsembleScorer(SentimentScorer):
    """Members (saved classifiers) and their weights.

    Args:
        members: the member classifiers.
        weights: one weight per member.
        names: one name per member (e.g. ``tfidf-stem``), for reports.
    """

    family = "ensemble"

    def __init__(self, members: list[SentimentClassifier], weights: list[float], names: list[str]) -> None:
        if not (len(members) == len(weights) == len(names)) or not members:
            raise ValueError("An ensemble needs one weight and one name per member, and at least one member.")
        self.members = members
        self.weights = [float(w) for w in weights]
        self.names = list(names)

    @property
    def runtime(self) -> str:
        """The members' runtime when they share one, else ``mixed`` (e.g. BERT on ONNX next to TF-IDF)."""
        runtimes = {member.runtime for member in self.members}
        return runtimes.pop() if len(runtimes) == 1 else "mixed"

    @property
    def requirements(self) -> tuple[str, ...]:
        """Every member's inference requirements (pinned into the MLflow model)."""
        out: list[str] = []
        for member in self.members:
            out.extend(r for r in member.model.requirements if r not in out)
        return tuple(out)

    def is_fitted(self) -> bool:
        """An ensemble exists only with its members."""
        return bool(self.members)

    def member_probabilities(self, texts: list[str]) -> list[np.ndarray]:
        """Each member's (calibrated) P(negative) for the texts."""
        return [member.predict_proba(texts) for member in self.members]

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return combine(self.member_probabilities(texts), np.asarray(self.weights))

    def save(self, folder: Path) -> None:
        """Write each member's classifier folder and ``ensemble.json``."""
        folder = Path(folder)
        for i, member in enumerate(self.members):
            member.save(folder / f"member_{i}")
        meta = {
            "weights": self.weights,
            "names": self.names,
            "members": [f"member_{i}" for i in range(len(self.members))],
        }
        (folder / _FILE).write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: Path, runtime: str = "auto") -> EnsembleScorer:
        """Read an ensemble written by :meth:`save`, each member on ``runtime`` (an export runtime
        only for the members that have the export).

        Raises:
            ModelNotFoundError: the folder holds no ensemble.
        """
        folder = Path(folder)
        if not (folder / _FILE).exists():
            raise ModelNotFoundError(f"{folder} holds no ensemble ({_FILE} is missing).")
        meta = json.loads((folder / _FILE).read_text())
        if runtime in ("auto", "native"):
            members = [SentimentClassifier.load(folder / name, runtime=runtime) for name in meta["members"]]
            return cls(members, meta["weights"], meta["names"])
        # An export runtime (onnx, onnx_int8) serves the members that have that export; the others
        # run as they would on ``auto``. At least one member must have it.
        members, exported = [], 0
        for name in meta["members"]:
            try:
                members.append(SentimentClassifier.load(folder / name, runtime=runtime))
                exported += 1
            except ModelNotFoundError:
                members.append(SentimentClassifier.load(folder / name, runtime="auto"))
        if not exported:
            raise ModelNotFoundError(
                f"No member of the ensemble in {folder} has a {runtime} export; use auto or native."
            )
        return cls(members, meta["weights"], meta["names"])
