"""The model card is written from the champion's run: its version, run, metrics and the behavioural
suite's failures as measured on the loaded model."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from core.evaluation.behaviour import run_behaviour
from core.serving.predictor import Predictor
from scripts.model_card import main


def test_the_card_is_generated_from_the_champion(tracking, tmp_path: Path) -> None:
    card = tmp_path / "model_card.md"
    assert main(["--tracking-uri", tracking.resolved_uri(), "--output", str(card)]) == 0
    text = card.read_text()
    champion = MlflowClient().get_model_version_by_alias(tracking.registered_model, tracking.champion_alias)
    run = MlflowClient().get_run(champion.run_id)
    assert text.startswith(f"# Model card: {tracking.registered_model} version {champion.version}\n")
    assert champion.run_id in text and "Aliases: champion" in text
    report_row = next(line for line in text.splitlines() if line.startswith("| human `report`"))
    assert f"| {run.data.metrics['human_report_roc_auc']:.3f} |" in report_row
    test_row = next(line for line in text.splitlines() if line.startswith("| test "))
    assert f"| {run.data.metrics['test_accuracy']:.3f} |" in test_row
    classifier = Predictor(tracking).classifier
    failures = sum(len(v) for v in run_behaviour(classifier.predict_proba, classifier.threshold).failures.values())
    assert f"Failures of the suite on this model ({failures}):" in text or (failures == 0 and "No failure." in text)
    assert f"from commit `{run.data.tags['git_commit'][:12]}`" in text


def test_no_champion_is_one_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["--tracking-uri", f"sqlite:///{tmp_path}/empty.db", "--output", str(tmp_path / "card.md")]) == 2
    assert "error:" in capsys.readouterr().err and not (tmp_path / "card.md").exists()
