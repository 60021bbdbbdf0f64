"""Domain-adaptive pre-training: more masked-language-model steps on the training tweets.

Before fine-tuning, the BERT checkpoint can continue its pre-training objective (masked tokens,
``bert.mlm_probability`` of them) on the *training* tweets only, for ``bert.mlm_steps`` AdamW
steps, so its encoder sees tweet language (mentions, slang, misspellings) before it sees a label.
The adapted encoder is written to a folder that the fine-tuning then loads like any checkpoint;
with a cache folder it is kept there, keyed by the source checkpoint, the texts and the settings,
and reused by the next run with the same inputs.

A checkpoint saved without its masked-LM head (the packaged all-MiniLM-L6-v2 is one) gets a new,
randomly initialised head: the first steps mostly train that head, so a few hundred steps are the
useful minimum.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import torch
from torch.nn import functional
from tqdm.auto import tqdm
from transformers import AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling

from core.config import BertConfig

logger = logging.getLogger(__name__)

_FACTS_FILE = "domain_adaptation.json"
_MAX_GRAD_NORM = 1.0


def adaptation_key(source: str, texts: list[str], config: BertConfig, seed: int) -> str:
    """A short hash of everything the adapted encoder depends on."""
    digest = hashlib.sha256()
    settings = (source, config.mlm_steps, config.mlm_probability, config.mlm_learning_rate, config.batch_size)
    digest.update(json.dumps([*map(str, settings), config.max_length, seed]).encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:16]


def _masked_lm_loss(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy on the masked positions only: the vocabulary-wide head runs on those ~15% of
    tokens instead of all of them (the head dominates a small encoder's cost)."""
    head = getattr(model, "cls", None) or getattr(model, "lm_head", None)
    if head is None:  # an architecture without a known head name: the library's full computation
        return model(**batch).loss
    labels = batch.pop("labels")
    hidden = model.base_model(**batch).last_hidden_state
    masked = labels != -100
    return functional.cross_entropy(head(hidden[masked]).float(), labels[masked])


def adapt_to_domain(
    source: str, texts: list[str], config: BertConfig, folder: Path, seed: int, device: torch.device
) -> dict[str, float]:
    """Continue masked-LM pre-training of ``source`` on ``texts`` and save the encoder in ``folder``.

    Reuses ``folder`` when it already holds an adaptation (same key, see :func:`adaptation_key`).

    Returns:
        ``mlm_loss_start`` and ``mlm_loss_end`` (mean masked-LM loss of the first and last tenth
        of the steps) and ``mlm_steps``; ``mlm_cached`` is 1.0 when the folder was reused.
    """
    folder = Path(folder)
    facts_file = folder / _FACTS_FILE
    if facts_file.exists():
        logger.info("Domain-adapted encoder reused from %s.", folder)
        return {**json.loads(facts_file.read_text()), "mlm_cached": 1.0}
    torch.manual_seed(seed)  # the new masked-LM head and the masking draws
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForMaskedLM.from_pretrained(source).to(device).train()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=config.mlm_probability)
    rows = tokenizer(list(texts), truncation=True, max_length=config.max_length)["input_ids"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.mlm_learning_rate, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in tqdm(range(config.mlm_steps), desc="domain-adaptive MLM", unit="step", mininterval=1.0):
        picked = torch.randint(len(rows), (min(config.batch_size, len(rows)),), generator=generator)
        batch = {
            key: value.to(device) for key, value in collator([{"input_ids": rows[i]} for i in picked.tolist()]).items()
        }
        loss = _masked_lm_loss(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), _MAX_GRAD_NORM)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    tenth = max(1, len(losses) // 10)
    facts = {
        "mlm_loss_start": sum(losses[:tenth]) / tenth,
        "mlm_loss_end": sum(losses[-tenth:]) / tenth,
        "mlm_steps": float(len(losses)),
    }
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    facts_file.write_text(json.dumps(facts))  # last: marks the folder complete
    logger.info("Domain-adaptive MLM: loss %.3f -> %.3f in %d steps.", *facts.values())
    return {**facts, "mlm_cached": 0.0}
