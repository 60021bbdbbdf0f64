"""Model page: a registered version's details (linked to the MLflow UI when the console knows its
URL), the learning curve of its run, the test tweets it gets most wrong, and its promotion to
champion (after a confirmation); when the console knows the API's URL and key, the promotion also
reloads the API and shows what it now serves, else the page says how to reload it. Promoting needs the
console login (:mod:`console.auth`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console import auth, charts
from console.api_client import ApiCallError, reload_served_model
from console.first_run import first_run_screen
from console.settings import ConsoleSettings
from console.store import Store, experiment_of, learning_curve
from console.views.compare import test_predictions
from core.errors import NotServableError
from core.explanations.drivers import GlobalExplanation, drivers_figure, global_drivers
from core.tracking.diagnostics import worst_errors
from core.tracking.registry import alias_version, set_alias
from core.tracking.run_catalog import registered_versions, version_details

_CONFIRM = "confirm_promotion"
_PROMOTED = "promoted_message"
_PROMOTE = "promote a version"


def render(store: Store) -> None:
    """The Model page."""
    st.header("Model")
    versions = registered_versions(store.tracking)
    if versions.empty:
        first_run_screen(f"registered version of '{store.tracking.registered_model}'")
        return
    settings = ConsoleSettings.from_env()
    if promoted := st.session_state.pop(_PROMOTED, None):
        kind, message = promoted
        {"error": st.error, "warning": st.warning}.get(kind, st.success)(message)
    champion = alias_version(store.tracking)
    choices = list(versions["version"])
    labels = {
        row.version: f"v{row.version} · {row.family} / {row.preprocessing}"
        + (" · champion" if row.version == champion else "")
        for row in versions.itertuples()
    }
    index = choices.index(champion) if champion in choices else 0
    version = st.selectbox("Registered version", choices, index=index, format_func=labels.get, key="version")
    details = version_details(store.tracking, version)
    metric = details.params.get("evaluation.selection_metric", "f1_negative")

    columns = st.columns(4)
    columns[0].metric(f"human select {metric}", _fmt(details.metrics.get(f"human_select_{metric}")))
    columns[1].metric(f"human report {metric}", _fmt(details.metrics.get(f"human_report_{metric}")))
    columns[2].metric(f"val {metric}", _fmt(details.metrics.get(f"val_{metric}")))
    columns[3].metric(f"test {metric}", _fmt(details.metrics.get(f"test_{metric}")))
    columns = st.columns(4)
    columns[0].metric("human report ECE", _fmt(details.metrics.get("human_report_ece")))
    columns[1].metric("threshold on P(negative)", _fmt(details.threshold))
    columns[2].metric("size (MB)", _fmt(details.size_mb, 2))
    columns[3].metric("s per 1,000 tweets", _fmt(details.metrics.get("inference_s_per_1000"), 3))
    serving_row(details)
    human_sets(details.metrics)
    st.caption(
        f"{details.name} v{details.version} · {details.family} / {details.preprocessing} · run `{details.run_id}` · "
        f"registered {details.created:%Y-%m-%d %H:%M} · aliases: {', '.join(details.aliases) or 'none'}"
    )
    mlflow_links(store, details.name, details.version, details.run_id, settings)
    promotion(store, version, champion, settings)

    metrics_tab, curve_tab, params_tab, signature_tab, errors_tab, drivers_tab = st.tabs(
        ["Metrics", "Learning curve", "Parameters", "Signature", "Worst errors", "What it keys on"]
    )
    with metrics_tab:
        st.dataframe(_frame(details.metrics, "metric"), hide_index=True, width="stretch")
    with curve_tab:
        curve_section(store, details.run_id, details.family)
    with params_tab:
        st.dataframe(_frame(details.params, "parameter"), hide_index=True, width="stretch")
    with signature_tab:
        st.code(f"inputs:  {details.signature_inputs}\noutputs: {details.signature_outputs}", language="text")
    with errors_tab:
        predictions = test_predictions(store.uri, details.run_id)
        if predictions is None:
            st.caption("This run logged no test predictions (trained before they were logged).")
        else:
            st.caption("Misclassified test tweets, most confident first (P(negative) far from the truth).")
            st.dataframe(worst_errors(predictions, 20), hide_index=True, width="stretch")
    with drivers_tab:
        drivers(store, version, details.family, predictions)


def human_sets(metrics: dict[str, float]) -> None:
    """The version's scores on each human-labelled set, in each part (nothing for runs without them)."""
    rows = []
    for part in ("select", "report"):
        prefix = f"human_{part}_"
        sets = sorted(
            {
                k.removeprefix(prefix).rsplit("_roc_auc", 1)[0]
                for k in metrics
                if k.startswith(prefix) and k.endswith("_roc_auc") and k != f"{prefix}roc_auc"
            }
        )
        for name in sets:
            rows.append(
                {
                    "part": part,
                    "set": name,
                    **{m: metrics.get(f"{prefix}{name}_{m}") for m in ("roc_auc", "accuracy", "f1_negative", "ece")},
                    "tweets": metrics.get(f"{prefix}{name}_n"),
                }
            )
    if rows:
        st.caption("Tweets labelled by people (select: decisions; report: never used for a choice)")
        st.container(key="human_sets").dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def drivers(store: Store, version: str, family: str, predictions: pd.DataFrame | None) -> None:
    """Global explanation over the test tweets, with the leak check (date, month, airline tokens)."""
    if predictions is None:
        st.caption("This run logged no test tweets to explain (trained before they were logged).")
        return
    exact = family == "tfidf"
    st.caption(
        "The words that push this model hardest towards each class over its test tweets "
        + ("(exact TF-IDF contributions)." if exact else "(token occlusion on a sample: about 1 s per tweet).")
    )
    sample = None if exact else st.slider("Test tweets to explain", 20, 300, 60, step=20, key="drivers_sample")
    if not exact and not st.button("Explain the sample", key="drivers_go"):
        return
    result = _global_drivers(store.uri, version, tuple(predictions["text"]), sample)
    (st.success if result.passed else st.error)(result.summary())
    st.plotly_chart(drivers_figure(result), key="drivers_chart")
    st.dataframe(result.drivers, hide_index=True, width="stretch")


@st.cache_resource(show_spinner="Explaining the test tweets…", max_entries=8)
def _global_drivers(uri: str, version: str, texts: tuple[str, ...], sample: int | None) -> GlobalExplanation:
    """Top drivers of one registered version (cached: versions never change)."""
    from console.store import connect
    from core.serving.predictor import Predictor

    classifier = Predictor(connect(uri).tracking, version=version).classifier
    return global_drivers(classifier, list(texts), max_texts=sample)


def mlflow_links(store: Store, name: str, version: str, run_id: str, settings: ConsoleSettings) -> None:
    """Links to the version's page and its run's page in the MLflow UI (nothing without one)."""
    links = settings.mlflow_links(store.uri, store.is_default)
    if links is None:
        return
    st.container(key="mlflow_links").markdown(
        f"Open in MLflow: [v{version} of {name}]({links.version(name, version)}) · "
        f"[run {run_id[:8]}]({links.run(experiment_of(run_id), run_id)})"
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _learning_curve(uri: str, run_id: str) -> pd.DataFrame:
    """A registered run's learning curve (its run is finished: cached per store and run)."""
    return learning_curve(run_id)


def curve_section(store: Store, run_id: str, family: str) -> None:
    """Training and validation loss of the version's run, step by step (the neural families log them)."""
    curve = _learning_curve(store.uri, run_id)
    if curve.empty:
        st.caption(
            f"No learning curve logged for this {family} run: only the neural families (BERT, the student, "
            "the Keras ones) log their training and validation loss, from the runs trained since they do."
        )
        return
    st.caption(
        "Mean training loss since the previous point, and validation loss: per epoch for the Keras "
        "families, per validation check (in optimizer steps) for BERT and the student."
    )
    st.plotly_chart(charts.learning_curve(curve, f"Learning curve of run {run_id[:8]}"), key="learning_curve")


def promotion(store: Store, version: str, champion: str | None, settings: ConsoleSettings) -> None:
    """The promote button, its confirmation, the alias move, then the API's reload when it is known."""
    alias = store.tracking.champion_alias
    if version == champion:
        st.success(f"v{version} is the `{alias}`: the API serves it.")
        return
    if st.session_state.get(_CONFIRM) != version:
        clicked = st.button(f"Promote v{version} to {alias}…", key="promote", help=auth.locked_help(_PROMOTE))
        if clicked and auth.allowed(_PROMOTE):
            st.session_state[_CONFIRM] = version
            st.rerun()
        return
    then = (
        f"The console then reloads the API at {settings.api_url}."
        if settings.can_reload_api
        else "The API switches to it on its next `/model/reload`."
    )
    st.warning(f"Make v{version} the `{alias}` (now: {'v' + champion if champion else 'none'})? {then}")
    yes, no = st.columns(2)
    if yes.button(f"Yes, promote v{version}", type="primary", key="confirm_promote"):
        st.session_state.pop(_CONFIRM, None)
        if not auth.unlocked():  # logged out between the two clicks
            st.session_state[_PROMOTED] = ("error", auth.refusal(_PROMOTE))
            st.rerun()
        try:
            set_alias(store.tracking, version)
        except NotServableError as exc:
            st.session_state[_PROMOTED] = ("error", f"Not promoted: {exc}")
            st.rerun()
        st.session_state[_PROMOTED] = reload_after_promotion(version, alias, settings)
        st.rerun()
    if no.button("Cancel", key="cancel_promote"):
        st.session_state.pop(_CONFIRM, None)
        st.rerun()


def reload_after_promotion(version: str, alias: str, settings: ConsoleSettings) -> tuple[str, str]:
    """Reload the API when its URL and key are known; the message to show (``success``, or
    ``warning`` when the API failed to reload or serves another version) and its kind."""
    promoted = f"v{version} is now the {alias}."
    if not settings.can_reload_api:
        return "success", f"{promoted} Call the API's POST /model/reload to serve it."
    try:
        with st.spinner(f"Reloading the API at {settings.api_url}…"):
            served = reload_served_model(settings.api_url, settings.api_key)
    except ApiCallError as exc:
        return "warning", f"{promoted} The API did not reload ({exc}); call its POST /model/reload to serve it."
    what = (
        f"{served.get('name')} v{served.get('version')} ({served.get('family')} / {served.get('preprocessing')}, "
        f"runtime {served.get('runtime')})"
    )
    if str(served.get("version")) != str(version):
        pinned = "a version or alias pinned by its API_MODEL_VERSION or API_MODEL_ALIAS"
        return "warning", f"{promoted} The API at {settings.api_url} reloaded but serves {what}: {pinned}."
    return "success", f"{promoted} The API at {settings.api_url} reloaded and now serves {what}."


def serving_row(details) -> None:
    """What serving this version costs and needs, and whether it is within the serving budget."""
    columns = st.columns(4)
    columns[0].metric("one tweet p50 (ms)", _fmt(details.metrics.get("serving_p50_ms"), 1))
    columns[1].metric("one tweet p99 (ms)", _fmt(details.metrics.get("serving_p99_ms"), 1))
    columns[2].metric("tweets/s in batches", _fmt(details.metrics.get("serving_tweets_per_s"), 0))
    columns[3].metric("resident memory (MB)", _fmt(details.metrics.get("serving_rss_mb"), 0))
    needs = details.tags.get("serving_requirements") or "unknown (registered before it was recorded)"
    reasons = details.budget()
    verdict = "within the serving budget" if not reasons else "out of the serving budget: " + "; ".join(reasons)
    runtime = details.tags.get("serving_runtime", "?")
    (st.caption if not reasons else st.warning)(f"Served on `{runtime}`, needs {needs}; {verdict}.")


def _fmt(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _frame(values: dict, name: str) -> pd.DataFrame:
    return pd.DataFrame({name: list(values), "value": [str(v) if name == "parameter" else v for v in values.values()]})
