"""Serving path of the BERT family on ONNX Runtime: no torch, no transformers.

:class:`core.models.bert.BertModel` writes ``model.onnx`` (the fine-tuned encoder and head,
input ids + attention mask in, 2 logits out) next to its weights and tokenizer. This scorer
reads that graph and ``tokenizer.json`` with ``onnxruntime`` and ``tokenizers`` only, so an
API serving a BERT champion loads in seconds and stays small (torch alone costs ~500 MB).
The fp32 graph matches the PyTorch model's P(negative) to within 1e-3 (the export checks this
and records the gap); the int8 copy (runtime ``onnx_int8``) is about twice as fast but moves
P(negative) more: it is kept only within 0.02 of PyTorch on average over the check tweets
(4 fixed ones and up to 256 validation tweets kept at fit), and 0.25 at most.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

from core.errors import ModelNotFoundError
from core.models.base import SentimentScorer

logger = logging.getLogger(__name__)

META_FILE = "bert_model.json"
ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "logits"
NEGATIVE_CLASS = 1  # labels are 1 = negative, so logit 1 is P(negative)


def softmax_negative(logits: np.ndarray) -> np.ndarray:
    """P(class 1) from 2-way logits, in float64 (stable)."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp[:, NEGATIVE_CLASS] / exp.sum(axis=1)


def pad_rows(rows: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """``input_ids`` and ``attention_mask`` (int64) of ``rows`` padded to their longest."""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask


def read_meta(folder: Path) -> dict[str, Any]:
    """The ``bert_model.json`` written by the BERT family (config, seed, ONNX facts)."""
    path = Path(folder) / META_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"{folder} holds no saved BERT model ({META_FILE} is missing).")
    return json.loads(path.read_text())


class OnnxBertScorer(SentimentScorer):
    """P(negative) from the exported graph; batches sorted by length to cut padding.

    Args:
        session: an ONNX Runtime session on ``model.onnx``.
        tokenizer: the checkpoint's fast tokenizer, truncating to ``max_length``, no padding.
        batch_size: rows per forward pass.
        pad_id: the tokenizer's padding id.
    """

    family = "bert"
    runtime = "onnx"
    requirements = ("onnxruntime", "tokenizers")
    onnx_file = ONNX_FILE
    tolerance = 1e-3
    """Largest P(negative) gap from PyTorch on the export's check tweets for the graph to be kept."""
    mean_tolerance: float | None = None
    """Largest mean P(negative) gap over those tweets (``None``: not checked)."""

    def __init__(self, session: onnxruntime.InferenceSession, tokenizer: Tokenizer, batch_size: int, pad_id: int):
        self.session = session
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.pad_id = pad_id
        # One forward pass at a time: each already uses every core, so concurrent requests
        # (gunicorn threads) would only oversubscribe them.
        self._run_lock = threading.Lock()

    @classmethod
    def available(cls, folder: Path) -> bool:
        """Whether ``folder`` holds an ONNX export this scorer can serve."""
        return (Path(folder) / cls.onnx_file).is_file() and (Path(folder) / TOKENIZER_FILE).is_file()

    @classmethod
    def load(cls, folder: Path) -> OnnxBertScorer:
        """Open the ONNX graph and tokenizer saved by the BERT family in ``folder``.

        Raises:
            ModelNotFoundError: the folder has no ONNX export (a model saved before it existed).
        """
        folder = Path(folder)
        meta = read_meta(folder)
        if not cls.available(folder):
            raise ModelNotFoundError(
                f"{folder} has no ONNX export ({cls.onnx_file}); serve it with the native runtime."
            )
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(folder / cls.onnx_file), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=int(meta["config"]["max_length"]))
        pad_id = tokenizer.padding["pad_id"] if tokenizer.padding else (tokenizer.token_to_id("[PAD]") or 0)
        scorer = cls(session, tokenizer, int(meta["config"].get("eval_batch_size", 128)), pad_id)
        scorer.family = meta.get("family", cls.family)  # ``distilled`` students share this graph format
        return scorer

    def is_fitted(self) -> bool:
        """Always true: a scorer exists only once loaded."""
        return True

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text with the special tokens, truncated, not padded."""
        return [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]

    def logits(self, rows: list[list[int]]) -> np.ndarray:
        """Logits (n, 2) in the order of ``rows``."""
        order = np.argsort([len(r) for r in rows], kind="stable")
        out = np.empty((len(rows), 2), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            positions = order[start : start + self.batch_size]
            ids, mask = pad_rows([rows[i] for i in positions], self.pad_id)
            with self._run_lock:
                out[positions] = self.session.run([OUTPUT_NAME], {INPUT_NAMES[0]: ids, INPUT_NAMES[1]: mask})[0]
        return out

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return softmax_negative(self.logits(self.token_ids(texts)))


class OnnxInt8BertScorer(OnnxBertScorer):
    """The same path on the dynamically int8-quantised graph (faster, slightly different scores)."""

    runtime = "onnx_int8"
    onnx_file = INT8_FILE
    tolerance = 0.25  # a sanity bound on the worst tweet: the mean is what keeps it honest
    mean_tolerance = 0.02
