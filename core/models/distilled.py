"""The distilled student: a BERT-family encoder (MiniLM-L6 by default) fine-tuned on a teacher's
P(negative) instead of emoticon labels.

The model is the BERT family's (same tokenizer, training loop, ONNX fp32/int8 exports and
serving path); what differs is the training set, built by :mod:`core.training.distillation`:
every tweet the session may train on without human labels, each with the teacher's calibrated
probability as a soft target (cross-entropy against ``[1 - p, p]``). One encoder then serves
what the ensemble scored with several models, at the cost of one.
"""

from __future__ import annotations

from typing import ClassVar

from core.config import DistilledConfig
from core.models.bert import BertModel


class DistilledModel(BertModel):
    """A BERT-family student trained on soft targets (a teacher's P(negative))."""

    family = "distilled"
    config_class: ClassVar[type[DistilledConfig]] = DistilledConfig
