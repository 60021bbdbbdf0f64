"""Distillation: a student fine-tuned on its teacher's P(negative) over every tweet the session may
train on without human labels, linked to its teacher, served like the BERT family."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from core.config import DistilledConfig, EnsembleConfig, ModelsConfig, PipelineConfig
from core.data.cleaning import clean_text
from core.data.prepared import prepare_data
from core.errors import ConfigError
from core.models.classifier import SentimentClassifier
from core.models.distilled import DistilledModel
from core.tracking.registry import model_uri
from core.training.distillation import student_pool
from core.training.pipeline import run_pipeline
from tests.conftest import tiny_config
from tests.models.tiny_bert import build_tiny_bert

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


def _student_config(small_csv: Path, store: Path, checkpoint: Path, **student: object) -> PipelineConfig:
    """TF-IDF (``none``) as the teacher, a tiny BERT as the student, 700 of ~2,000 rows sampled."""
    config = tiny_config(small_csv, store)
    settings = {"teacher": "tfidf-none", "max_length": 32, "batch_size": 32, "learning_rate": 3e-3, **student}
    distilled = DistilledConfig(checkpoint=str(checkpoint), **settings)
    return dataclasses.replace(
        config,
        families=("tfidf", "distilled"),
        preprocessing=("none",),
        data=dataclasses.replace(config.data, max_rows=700),
        models=dataclasses.replace(ModelsConfig(), tfidf=config.models.tfidf, distilled=distilled),
        ensemble=EnsembleConfig(enabled=False),
    )


@pytest.fixture(scope="module")
def distilled_run(small_csv: Path, tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    config = _student_config(small_csv, tmp_path_factory.mktemp("store"), tiny_checkpoint)
    return config, run_pipeline(config)


def test_the_student_is_trained_after_its_teacher_and_linked_to_it(distilled_run) -> None:
    config, result = distilled_run
    teacher, student = result.runs
    assert (teacher.family, student.family) == ("tfidf", "distilled")
    tags = MlflowClient().get_run(student.run_id).data.tags
    assert tags["teacher"] == "tfidf-none"
    assert tags["teacher_run_id"] == teacher.run_id
    assert tags["teacher_version"] == teacher.version


def test_the_pool_is_the_training_split_and_the_unused_rows_none_held_out(distilled_run) -> None:
    config, result = distilled_run
    data = prepare_data(config)
    student = result.runs[1]
    assert data.unused is not None and len(data.unused) > 500  # ~2,000 rows in the file, 700 sampled
    assert student.metrics["n_pool"] == len(data.split.train) + len(data.unused)
    assert student.metrics["n_train_used"] == student.metrics["n_pool"]
    held_out = {clean_text(t) for part in ("val", "test") for t in data.parts()[part]["text"]} | data.held_out_keys()
    pool_keys = {clean_text(t) for t in student_pool(data, None, config.seed)["text"]}
    assert pool_keys.isdisjoint(held_out)
    assert set(data.unused["key"]).isdisjoint(set(data.split.train["key"]))
    assert len(student_pool(data, 100, config.seed)) == 100


def test_the_student_is_served_from_its_onnx_graph_as_family_distilled(distilled_run, tmp_path: Path) -> None:
    config, result = distilled_run
    student = result.runs[1]
    pyfunc = mlflow.pyfunc.load_model(model_uri(config.tracking, version=student.version))
    classifier = pyfunc.unwrap_python_model().classifier
    assert classifier.family == "distilled"
    assert classifier.runtime == "onnx_int8"  # auto: the fastest export kept at save time
    texts = ["my flight was cancelled and nobody helps", "thanks for the lovely crew"]
    native = student.classifier.predict_proba(texts)
    assert np.allclose(classifier.predict_proba(texts), native, atol=0.25)  # the int8 save-time bound
    served_auc = student.metrics["served_human_report_roc_auc"]  # scored on the int8 graph at registration
    assert abs(served_auc - student.metrics["human_report_roc_auc"]) < 0.05
    reloaded = SentimentClassifier.load(student.classifier.save(tmp_path / "student"), runtime="native")
    assert isinstance(reloaded.model, DistilledModel)
    assert np.allclose(reloaded.predict_proba(texts), native, atol=1e-6)


def test_soft_targets_are_learnt_as_probabilities(tiny_checkpoint: Path) -> None:
    """Trained on a teacher that says 0.8 for every tweet, the student says about 0.8: hard labels
    could not teach that."""
    texts = [f"tweet number {i} about the flight" for i in range(256)]
    model = DistilledModel(
        DistilledConfig(checkpoint=str(tiny_checkpoint), max_length=16, batch_size=32, epochs=4, learning_rate=3e-3)
    )
    model.fit(texts, np.full(len(texts), 0.8), texts[:32], np.ones(32, dtype=int))
    assert abs(float(model.predict_proba(texts).mean()) - 0.8) < 0.08


def test_a_teacher_the_session_does_not_train_is_refused_before_training(small_csv: Path, tmp_path: Path) -> None:
    config = _student_config(small_csv, tmp_path, tmp_path / "unused-checkpoint", teacher="bert-none")
    with pytest.raises(ConfigError, match="distilled.teacher: no run named 'bert-none'"):
        run_pipeline(config)
    assert not (tmp_path / ".mlflow").exists()  # refused before the store is even opened


def test_targets_outside_zero_one_are_refused(tiny_checkpoint: Path) -> None:
    model = DistilledModel(DistilledConfig(checkpoint=str(tiny_checkpoint), max_length=16))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        model.fit(["a", "b"], np.array([0.5, 1.5]), ["c"], np.array([1]))
