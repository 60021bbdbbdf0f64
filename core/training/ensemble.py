"""The ensemble step: weights over the session's runs, chosen on tweets labelled by people.

By default (``ensemble.fit_on=human_select``) the weights are chosen on the human-labelled
``select`` part, the product's yardstick: the plain average, each member alone and seeded Dirichlet
draws are each scored by their mean ROC AUC over ``ensemble.folds`` stratified folds, and the plain
average stays unless the best candidate beats it by more than one standard error (1-2k tweets must
not overfit 200 candidates). The cross-fitted AUC of that procedure (each fold scored with weights
chosen on the others) is logged as ``ensemble_select_crossfit_roc_auc``. The human ``report`` part
is never looked at.

``ensemble.fit_on=val_ood`` keeps the older choice: ``(1 - ood_weight) * val ROC AUC + ood_weight *
ROC AUC on a fixed half of the out-of-domain set``, the other half reported as ``ood_heldout_*``.
(A logistic stacker fitted on in-distribution validation favours TF-IDF and lost to a plain average:
see the shared notes.)

Members whose weight is below ``ensemble.min_weight`` are dropped and the rest renormalised (each
member costs its whole inference time and memory). The ensemble is calibrated and thresholded like
any classifier (on ``calibration.fit_on``), logged as its own MLflow run (``ensemble-none``) with its
cost (size, seconds per 1,000 tweets), and registered as one pyfunc.
"""

from __future__ import annotations

import logging

import mlflow
import numpy as np
from sklearn.metrics import roc_auc_score

from core.config import PipelineConfig, flatten
from core.data.human import strata as human_strata
from core.data.prepared import PreparedData
from core.data.preprocessing import Preprocessor
from core.errors import ConfigError
from core.evaluation.behaviour import behaviour_metrics
from core.evaluation.calibration import calibrate_and_threshold
from core.evaluation.metrics import compute_metrics
from core.models.classifier import SentimentClassifier
from core.models.ensemble import EnsembleScorer, combine
from core.training.fitting import RunResult, decision_part, evaluate_classifier, log_and_register, run_tags

logger = logging.getLogger(__name__)


def ood_selection_mask(n: int, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the out-of-domain tweets used to choose weights (seeded, fixed per session)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=int(round(n * fraction)), replace=False)] = True
    return mask


def candidate_weights(n_members: int, n_random: int, seed: int, ranking: list[int] | None = None) -> np.ndarray:
    """The plain average first, then each member alone, then (given ``ranking``, the members best
    first) the plain averages of the best 2, 3, ... members, then seeded Dirichlet(1) draws."""
    rows = [np.full(n_members, 1.0 / n_members), *np.eye(n_members)]
    for k in range(2, n_members if ranking else 0):
        top = np.zeros(n_members)
        top[ranking[:k]] = 1.0 / k
        rows.append(top)
    if n_random:
        rows.extend(np.random.default_rng(seed).dirichlet(np.ones(n_members), size=n_random))
    return np.asarray(rows)


def choose_weights(
    val: list[np.ndarray],
    y_val: np.ndarray,
    ood: list[np.ndarray] | None,
    y_ood: np.ndarray | None,
    ood_weight: float,
    n_random: int,
    seed: int,
) -> tuple[np.ndarray, dict[str, float]]:
    """The weight vector with the best blended ROC AUC (validation and the OOD selection half).

    Args:
        val: each member's P(negative) on validation.
        y_val: validation labels (1 = negative).
        ood: each member's P(negative) on the OOD selection half (``None``: validation alone).
        y_ood: those tweets' labels.
        ood_weight: weight of the OOD AUC in the blend.
        n_random: Dirichlet draws besides the average and the single members.
        seed: seed of the draws.

    Returns:
        The weights and the chosen candidate's ``val_roc_auc``, ``ood_select_roc_auc`` and ``score``.
    """
    best_weights, best = None, {"score": -np.inf}
    for weights in candidate_weights(len(val), n_random, seed):
        scores = blend_scores(weights, val, y_val, ood, y_ood, ood_weight)
        if scores["score"] > best["score"] + 1e-9:
            best_weights, best = weights, scores
    return best_weights, best


def blend_scores(
    weights: np.ndarray,
    val: list[np.ndarray],
    y_val: np.ndarray,
    ood: list[np.ndarray] | None,
    y_ood: np.ndarray | None,
    ood_weight: float,
) -> dict[str, float]:
    """``val_roc_auc``, ``ood_select_roc_auc`` and their blend ``score`` for one weight vector."""
    use_ood = ood is not None and y_ood is not None and ood_weight > 0 and len(np.unique(y_ood)) == 2
    val_auc = roc_auc_score(y_val, combine(val, weights))
    ood_auc = roc_auc_score(y_ood, combine(ood, weights)) if use_ood else float("nan")
    score = (1 - ood_weight) * val_auc + ood_weight * ood_auc if use_ood else val_auc
    return {"val_roc_auc": float(val_auc), "ood_select_roc_auc": float(ood_auc), "score": float(score)}


def fold_ids(strata: np.ndarray, k: int, seed: int) -> np.ndarray:
    """A fold number (0..k-1) per tweet: each stratum (set x label) dealt round-robin after a seeded shuffle."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(strata), dtype=int)
    for stratum in np.unique(strata):
        positions = rng.permutation(np.flatnonzero(strata == stratum))
        folds[positions] = np.arange(len(positions)) % k
    return folds


def fold_aucs(weights: np.ndarray, probabilities: list[np.ndarray], y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """ROC AUC of the weighted ensemble on each fold (``nan`` on a fold with one class)."""
    combined = combine(probabilities, weights)
    out = []
    for fold in range(folds.max() + 1):
        in_fold = folds == fold
        both = len(np.unique(y[in_fold])) == 2
        out.append(roc_auc_score(y[in_fold], combined[in_fold]) if both else np.nan)
    return np.asarray(out)


def _one_se_choice(table: np.ndarray, folds: list[int]) -> int:
    """The candidate (row) with the best mean AUC over ``folds``, unless the plain average (row 0) is
    within one standard error of the paired difference: then the average."""
    scores = table[:, folds]
    means = np.nanmean(scores, axis=1)
    best = int(np.nanargmax(means))
    difference = scores[best] - scores[0]
    se = (
        float(np.nanstd(difference, ddof=1) / np.sqrt(max(1, np.sum(~np.isnan(difference))))) if len(folds) > 1 else 0.0
    )
    return 0 if means[best] - means[0] <= se else best


def choose_weights_on_folds(
    probabilities: list[np.ndarray],
    y: np.ndarray,
    strata: np.ndarray,
    n_random: int,
    k: int,
    seed: int,
    top_k_averages: bool = True,
) -> tuple[np.ndarray, dict[str, float]]:
    """Weights chosen on the human-labelled ``select`` part, regularised so ~1-2k tweets do not overfit
    them: every candidate is scored on ``k`` folds, and the plain average is kept unless the best
    candidate's mean fold AUC beats it by more than one standard error.

    Returns:
        The weights and facts: ``roc_auc`` (all of ``select``), ``fold_mean_roc_auc``,
        ``crossfit_roc_auc`` (each fold scored with the weights chosen on the other folds: an honest
        estimate of the procedure) and ``average_crossfit_roc_auc`` (the plain average, same folds).
    """
    ranking = None
    if top_k_averages:  # members ranked by their own AUC on the whole part (a mild, shared look at it)
        ranking = list(np.argsort([-roc_auc_score(y, p) for p in probabilities], kind="stable"))
    candidates = candidate_weights(len(probabilities), n_random, seed, ranking)
    folds = fold_ids(strata, k, seed)
    table = np.vstack([fold_aucs(w, probabilities, y, folds) for w in candidates])
    chosen = _one_se_choice(table, list(range(k)))
    crossfit = [table[_one_se_choice(table, [f for f in range(k) if f != held]), held] for held in range(k)]
    return candidates[chosen], ensemble_scores(candidates[chosen], probabilities, y, folds) | {
        "crossfit_roc_auc": float(np.nanmean(crossfit)),
        "average_crossfit_roc_auc": float(np.nanmean(table[0])),
    }


def ensemble_scores(
    weights: np.ndarray, probabilities: list[np.ndarray], y: np.ndarray, folds: np.ndarray
) -> dict[str, float]:
    """``roc_auc`` (all of ``select``) and ``fold_mean_roc_auc`` (the ``score``) of one weight vector."""
    fold_mean = float(np.nanmean(fold_aucs(weights, probabilities, y, folds)))
    whole = float(roc_auc_score(y, combine(probabilities, weights)))
    return {"roc_auc": whole, "fold_mean_roc_auc": fold_mean, "score": fold_mean}


def _kept(items: list, keep: np.ndarray) -> list:
    return [item for item, k in zip(items, keep, strict=True) if k]


def kept_members(weights: np.ndarray, min_weight: float) -> np.ndarray:
    """Boolean mask of the members whose weight reaches ``min_weight`` (at least the two heaviest)."""
    keep = np.asarray(weights) >= min_weight
    if keep.sum() < 2:
        keep = np.zeros(len(weights), dtype=bool)
        keep[np.argsort(weights)[-2:]] = True
    return keep


def check_members(names: tuple[str, ...], run_names: list[str]) -> None:
    """Refuse, before training, an ensemble whose members the session will not train.

    Raises:
        ConfigError: an unknown member name, or fewer than two members.
    """
    unknown = [n for n in names if n not in run_names]
    if unknown:
        raise ConfigError(f"ensemble.members: no run named {', '.join(unknown)} (runs: {', '.join(run_names)}).")
    if len(names or run_names) < 2:
        raise ConfigError("An ensemble needs at least two trained runs: train more families or variants.")


def select_members(runs: list[RunResult], names: tuple[str, ...]) -> list[RunResult]:
    """The runs named ``family-variant`` in ``names`` (every run with a classifier when empty).

    Raises:
        ConfigError: an unknown name, or fewer than two members.
    """
    by_name = {f"{r.family}-{r.preprocessing}": r for r in runs if r.classifier is not None and r.family != "ensemble"}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ConfigError(f"ensemble.members: no run named {', '.join(unknown)} (runs: {', '.join(by_name)}).")
    members = [by_name[n] for n in names] if names else list(by_name.values())
    if len(members) < 2:
        raise ConfigError("An ensemble needs at least two trained runs: train more families or variants.")
    return members


def build_ensemble(
    members: list[tuple[str, SentimentClassifier]], data: PreparedData, config: PipelineConfig
) -> tuple[SentimentClassifier, dict[str, float]]:
    """Choose the weights, then calibrate and threshold the ensemble on validation.

    Args:
        members: (name, fitted classifier) pairs.
        data: the session's split and out-of-domain set.
        config: the pipeline config (``ensemble`` and ``calibration`` sections).

    Returns:
        The ensemble classifier and facts to log (weights, selection scores, held-out OOD AUCs).
    """
    settings = config.ensemble
    facts: dict[str, float] = {}
    if settings.fit_on == "human_select":
        members, weights, chosen = _weights_on_human_select(members, data, config, facts)
    else:
        members, weights, chosen = _weights_on_val_and_ood(members, data, config, facts)
    names = [name for name, _ in members]
    scorer = EnsembleScorer([c for _, c in members], weights.tolist(), names)
    preprocessor = Preprocessor("none", config.data.resolved_nltk_data())
    labels, texts = decision_part(data, data.processed(preprocessor), config.calibration.fit_on)
    calibrator, threshold = calibrate_and_threshold(
        config.calibration, config.evaluation.threshold_metric, labels, scorer.predict_proba(texts)
    )
    facts.update({f"ensemble_weight_{name}": float(w) for name, w in zip(names, weights, strict=True)})
    facts.update({f"ensemble_select_{k}": float(v) for k, v in chosen.items()})
    facts["n_members"] = float(len(members))
    return SentimentClassifier(preprocessor, scorer, threshold, calibrator), facts


Members = list[tuple[str, SentimentClassifier]]


def _weights_on_human_select(
    members: Members, data: PreparedData, config: PipelineConfig, facts: dict[str, float]
) -> tuple[Members, np.ndarray, dict[str, float]]:
    """Weights from the human-labelled ``select`` part (:func:`choose_weights_on_folds`), members below
    ``ensemble.min_weight`` dropped; ``facts`` gets each member's ``select`` AUC."""
    settings = config.ensemble
    select = data.human_part("select")
    groups = human_strata(select).to_numpy()
    probabilities = []
    for name, classifier in members:
        y, texts = decision_part(data, data.processed(classifier.preprocessor), "human_select")
        probabilities.append(classifier.predict_processed(texts))
        facts[f"member_{name}_human_select_roc_auc"] = float(roc_auc_score(y, probabilities[-1]))
    weights, chosen = choose_weights_on_folds(
        probabilities, y, groups, settings.n_candidates, settings.folds, config.seed, settings.top_k_averages
    )
    keep = kept_members(weights, settings.min_weight)
    facts["n_members_dropped"] = float((~keep).sum())
    if not keep.all():
        members, probabilities = _kept(members, keep), _kept(probabilities, keep)
        weights = weights[keep] / weights[keep].sum()
        folds = fold_ids(groups, settings.folds, config.seed)
        chosen = {**chosen, **ensemble_scores(weights, probabilities, y, folds)}
    return members, weights, chosen


def _weights_on_val_and_ood(
    members: Members, data: PreparedData, config: PipelineConfig, facts: dict[str, float]
) -> tuple[Members, np.ndarray, dict[str, float]]:
    """The older choice: a blend of validation and the out-of-domain selection half (``val_ood``)."""
    settings = config.ensemble
    val = [c.predict_processed(data.processed(c.preprocessor)["val"]) for _, c in members]
    y_val = data.split.val["label"].to_numpy()
    ood_sel = ood_rest = None
    y_ood = None
    if data.ood is not None:
        y_ood = data.ood["label"].to_numpy()
        ood_all = [c.predict_processed(data.processed(c.preprocessor)["ood"]) for _, c in members]
        mask = ood_selection_mask(len(y_ood), settings.ood_selection_fraction, config.seed)
        ood_sel = [p[mask] for p in ood_all]
        ood_rest = ([p[~mask] for p in ood_all], y_ood[~mask])
        y_ood = y_ood[mask]
    weights, chosen = choose_weights(
        val, y_val, ood_sel, y_ood, settings.ood_weight, settings.n_candidates, config.seed
    )
    if ood_rest is not None:
        (member_rest, y_rest) = ood_rest
        for (name, _), p in zip(members, member_rest, strict=True):
            facts[f"member_{name}_ood_heldout_roc_auc"] = float(roc_auc_score(y_rest, p))
        facts["best_member_ood_heldout_roc_auc"] = max(facts.values())
    keep = kept_members(weights, settings.min_weight)
    facts["n_members_dropped"] = float((~keep).sum())
    if not keep.all():
        members, val = _kept(members, keep), _kept(val, keep)
        ood_sel = _kept(ood_sel, keep) if ood_sel is not None else None
        weights = weights[keep] / weights[keep].sum()
        chosen = blend_scores(weights, val, y_val, ood_sel, y_ood, settings.ood_weight)
    return members, weights, chosen


def heldout_ood_metrics(
    classifier: SentimentClassifier, data: PreparedData, config: PipelineConfig
) -> dict[str, float]:
    """Metrics of ``classifier`` on the out-of-domain tweets never used to choose the weights."""
    if data.ood is None:
        return {}
    mask = ood_selection_mask(len(data.ood), config.ensemble.ood_selection_fraction, config.seed)
    texts = [t for t, m in zip(data.processed(classifier.preprocessor)["ood"], mask, strict=True) if not m]
    probabilities = classifier.predict_processed(texts)
    metrics = compute_metrics(data.ood["label"].to_numpy()[~mask], probabilities, classifier.threshold)
    return {f"ood_heldout_{k}": float(v) for k, v in metrics.items()}


def train_ensemble_and_log(runs: list[RunResult], data: PreparedData, config: PipelineConfig) -> RunResult:
    """Build the ensemble over the session's runs, log it as one MLflow run and register it.

    Returns:
        The ensemble's run (family ``ensemble``, preprocessing ``none``).

    Raises:
        ConfigError: fewer than two members, or an unknown member name.
    """
    candidates = select_members(runs, config.ensemble.members)
    named = [(f"{r.family}-{r.preprocessing}", r.classifier) for r in candidates]
    tags = run_tags("ensemble", "none", data, config)
    with mlflow.start_run(run_name="ensemble-none", tags=tags) as run:
        classifier, facts = build_ensemble(named, data, config)
        kept = set(classifier.model.names)
        members = [r for (name, _), r in zip(named, candidates, strict=True) if name in kept]
        mlflow.set_tag("members", ",".join(f"{r.family}-{r.preprocessing}:v{r.version}" for r in members))
        mlflow.log_params(
            {
                **{
                    key: value
                    for key, value in flatten(config).items()
                    if key.startswith(("data.", "split.", "ensemble.", "calibration.", "noise.")) or key == "seed"
                },
                "family": "ensemble",
                "preprocessing": "none",
                "evaluation.selection_metric": config.evaluation.selection_metric,
                "candidates": ",".join(name for name, _ in named),
                "members": ",".join(classifier.model.names),
            }
        )
        probabilities: dict[str, np.ndarray] = {}
        metrics = {**facts, **evaluate_classifier(classifier, data, probabilities, config.calibration.ece_bins)}
        metrics.update(heldout_ood_metrics(classifier, data, config))
        metrics.update(behaviour_metrics(classifier))
        metrics["selection_score"] = metrics[config.evaluation.selection_key]
        metrics["train_time_s"] = sum(r.metrics.get("train_time_s", 0.0) for r in members)
        version = log_and_register(classifier, metrics, probabilities["test"], data, config, "ensemble", "none")
    logger.info(
        "ensemble of %s: test_roc_auc=%.4f ood_heldout_roc_auc=%.4f (best candidate %.4f)",
        ", ".join(classifier.model.names),
        metrics["test_roc_auc"],
        metrics.get("ood_heldout_roc_auc", float("nan")),
        metrics.get("best_member_ood_heldout_roc_auc", float("nan")),
    )
    return RunResult(run.info.run_id, "ensemble", "none", version, metrics, classifier)
