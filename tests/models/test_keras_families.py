"""The Keras token-sequence families: the family contract on the easy fixture, frozen vs fine-tuned
embeddings, word vectors and vocabulary from train only, FastText vectors for unseen words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.config import KerasEmbeddingConfig, LstmConfig
from core.data.preprocessing import Preprocessor
from core.errors import ConfigError
from core.models.keras_embedding import KerasEmbeddingModel
from core.models.keras_lstm import OOV_ID, FastTextLstmModel, LstmModel, Word2VecLstmModel
from core.models.word_vectors import embedding_matrix
from tests.fixtures import easy_rows, write_easy_csv
from tests.models.contract import check_family

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

SHAPE = {"max_tokens": 2000, "sequence_length": 16, "batch_size": 32}
VAL_ONLY = "zzvalonly"


def tiny_lstm(source: str, **overrides) -> LstmConfig:
    """A seconds-long LSTM config on ``source`` vectors."""
    settings = {
        "vector_size": 16,
        "window": 3,
        "min_count": 2,
        "embedding_epochs": 5,
        "fasttext_bucket": 5000,
        "lstm_units": 8,
        "bidirectional": False,
        "learning_rate": 1e-2,
        "epochs": 3,
        **SHAPE,
    }
    return LstmConfig(embedding_source=source, **{**settings, **overrides})


@pytest.mark.parametrize(
    ("family", "config"),
    [
        (
            "keras_embedding",
            KerasEmbeddingConfig(embedding_dim=16, hidden_units=16, learning_rate=1e-2, epochs=3, **SHAPE),
        ),
        ("lstm_word2vec", tiny_lstm("word2vec", trainable_embedding=True)),
        ("lstm_fasttext", tiny_lstm("fasttext", trainable_embedding=True)),
    ],
)
def test_family_meets_contract(family: str, config, tmp_path: Path) -> None:
    data = write_easy_csv(tmp_path / "easy.csv", n=400)
    result = check_family(family, config, data, tmp_path)
    assert result.metrics["epochs_run"] >= 1 and result.metrics["vocab_size"] > 50


@pytest.fixture(scope="module")
def easy() -> dict[str, tuple[list[str], np.ndarray]]:
    """Cleaned easy tweets; every validation text carries a token never seen in training."""
    rows = easy_rows(300, seed=3)
    texts = Preprocessor("none").transform([text for _, text in rows])
    labels = np.array([1 if polarity == 0 else 0 for polarity, _ in rows])
    return {
        "train": (texts[:240], labels[:240]),
        "val": ([f"{text} {VAL_ONLY}" for text in texts[240:]], labels[240:]),
    }


def fitted(model: LstmModel, easy: dict) -> LstmModel:
    model.fit(*easy["train"], *easy["val"])
    return model


@pytest.fixture(scope="module")
def word2vec(easy: dict) -> Word2VecLstmModel:
    """Frozen Word2Vec LSTM, ``min_count=2``."""
    return fitted(Word2VecLstmModel(tiny_lstm("word2vec", epochs=1, trainable_embedding=False), seed=0), easy)


@pytest.fixture(scope="module")
def fasttext(easy: dict) -> FastTextLstmModel:
    """Frozen FastText LSTM, ``min_count=2``."""
    return fitted(FastTextLstmModel(tiny_lstm("fasttext", epochs=1, trainable_embedding=False), seed=0), easy)


def test_frozen_embedding_keeps_the_word_vectors(word2vec: Word2VecLstmModel) -> None:
    initial = embedding_matrix(word2vec.vocabulary, word2vec.vectors)
    assert np.count_nonzero(initial) > 0
    np.testing.assert_array_equal(word2vec.embedding_weights(), initial)


def test_trainable_embedding_is_fine_tuned(easy: dict) -> None:
    model = fitted(Word2VecLstmModel(tiny_lstm("word2vec", epochs=1, trainable_embedding=True), seed=0), easy)
    initial = embedding_matrix(model.vocabulary, model.vectors)
    changed = np.abs(model.embedding_weights() - initial).max(axis=1) > 0
    assert changed.sum() >= 10
    assert not changed[: OOV_ID + 1].any()  # padding and OOV rows are masked, hence never updated


def test_vectors_and_vocabulary_come_from_train_only(word2vec: Word2VecLstmModel, fasttext: FastTextLstmModel) -> None:
    for model in (word2vec, fasttext):
        assert VAL_ONLY not in model.vocabulary
        assert VAL_ONLY not in model.vectors.key_to_index
    assert "delayed" in word2vec.vectors.key_to_index and "delayed" in word2vec.vocabulary


def test_fasttext_embeds_rare_and_unseen_words(word2vec: Word2VecLstmModel, fasttext: FastTextLstmModel) -> None:
    rare = next(w for w in fasttext.vocabulary if w not in fasttext.vectors.key_to_index)  # below min_count
    for model, has_vector in ((fasttext, True), (word2vec, False)):
        row = model.embedding_weights()[model.vocabulary.index(rare) + OOV_ID + 1]
        assert bool(np.any(row)) is has_vector
        unseen = model.sequence_vectors([f"{VAL_ONLY} delayed"])[0]
        assert model.ids([VAL_ONLY])[0, 0] == OOV_ID
        assert bool(np.any(unseen[0])) is has_vector
        assert np.any(unseen[1])
    np.testing.assert_array_equal(fasttext.sequence_vectors([VAL_ONLY])[0, 0], fasttext.vectors.get_vector(VAL_ONLY))


@pytest.fixture(scope="module")
def embedding_model(easy: dict) -> KerasEmbeddingModel:
    """The trained-embedding family, one epoch."""
    config = KerasEmbeddingConfig(embedding_dim=16, hidden_units=16, epochs=1, **SHAPE)
    model = KerasEmbeddingModel(config, seed=0)
    model.fit(*easy["train"], *easy["val"])
    return model


@pytest.mark.parametrize("name", ["embedding_model", "word2vec", "fasttext"])
def test_reloads_identically_without_training_data(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    model = request.getfixturevalue(name)
    texts = [f"the crew was {VAL_ONLY} delayyyed", "", "great", "awful " * 40]
    expected = model.predict_proba(texts)
    assert expected.dtype == np.float64 and np.isfinite(expected).all()  # an empty text too
    model.save(tmp_path)
    np.testing.assert_array_equal(type(model).load(tmp_path).predict_proba(texts), expected)


def test_source_must_match_the_family() -> None:
    with pytest.raises(ConfigError, match="embedding_source"):
        FastTextLstmModel(tiny_lstm("word2vec"))
