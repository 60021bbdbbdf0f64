"""Compare page on the session's tiny trained store: the table lists the runs, the filters
work, and every chart is built from the runs' own logged numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from tests.console.conftest import figures, open_console
from tests.console.server import serve_mlflow


@pytest.fixture
def compare(trained_uri: str, monkeypatch: pytest.MonkeyPatch):
    return open_console(monkeypatch, trained_uri, "Compare")


def test_table_lists_every_run_with_metric_and_costs(trained, compare) -> None:
    _, result = trained
    table = compare.dataframe[0].value
    expected = {f"tfidf-{r.preprocessing} v{r.version}": r for r in result.runs}
    assert sorted(table["label"]) == sorted(expected)
    for row in table.itertuples():
        run = expected[row.label]
        for column in ("human_select_roc_auc", "human_report_roc_auc", "human_report_tweeteval_roc_auc", "val_roc_auc"):
            assert getattr(row, column) == pytest.approx(run.metrics[column])
        assert row.test_roc_auc == pytest.approx(run.metrics["test_roc_auc"])
        assert row.train_time_s == pytest.approx(run.metrics["train_time_s"])
        assert row.inference_s_per_1000 == pytest.approx(run.metrics["inference_s_per_1000"])
        assert row.champion == (run.version == result.champion.version)
    ranked = list(table["human_select_roc_auc"])
    assert ranked == sorted(ranked, reverse=True)  # default sort: the champion's yardstick
    assert compare.download_button[0].label == "Download CSV"
    assert compare.download_button[0].proto.url.endswith(".csv")


def test_filters_and_sorting(trained, compare) -> None:
    compare.multiselect(key="variants").set_value(["stem"]).run()
    assert list(compare.dataframe[0].value["preprocessing"]) == ["stem"]
    compare.multiselect(key="variants").set_value(["none", "stem", "lemmatize"]).run()
    compare.selectbox(key="sort_by").set_value("train_time_s").run()
    times = list(compare.dataframe[0].value["train_time_s"])
    assert len(times) == 3 and times == sorted(times)  # cost columns sort cheapest first
    compare.multiselect(key="families").set_value([]).run()
    assert compare.warning[0].value == "No run matches these filters."
    assert not compare.exception


def test_charts_are_built_from_the_runs(trained, compare) -> None:
    _, result = trained
    table = compare.dataframe[0].value
    charts = figures(compare)
    assert {"metric_per_model", "cost_vs_metric", "roc", "pr"} <= set(charts)

    bars = {trace.name: dict(zip(trace.x, trace.y, strict=True)) for trace in charts["metric_per_model"]}
    assert set(bars) == {"human_select", "human_report", "val", "test", "ood"}
    for row in table.itertuples():
        assert bars["human_report"][row.label] == pytest.approx(row.human_report_roc_auc)
        assert bars["val"][row.label] == pytest.approx(row.val_roc_auc)
        assert bars["ood"][row.label] == pytest.approx(row.ood_roc_auc)

    points = [(x, y) for trace in charts["cost_vs_metric"] for x, y in zip(trace.x, trace.y, strict=True)]
    assert sorted(points) == sorted(zip(table["train_time_s"], table["human_report_roc_auc"], strict=True))

    # ROC and PR curves of the three runs on their test split: the area under each ROC curve
    # is the test ROC AUC the run logged at training time.
    client = MlflowClient()
    roc = {trace.name: trace for trace in charts["roc"] if trace.name != "chance"}
    assert set(roc) == set(table["label"])
    for label, trace in roc.items():
        run_id = table.loc[table["label"] == label, "run_id"].iloc[0]
        logged = client.get_run(run_id).data.metrics
        area = float(np.trapezoid(np.asarray(trace.y), np.asarray(trace.x)))
        assert area == pytest.approx(logged["test_roc_auc"], abs=1e-9)
        assert trace.x[0] == 0 and trace.x[-1] == 1
        matrix = np.asarray(charts[f"confusion-{label}"][0].z)
        assert matrix.sum() == int(client.get_run(run_id).data.params["n_test"])
        assert np.trace(matrix) / matrix.sum() == pytest.approx(logged["test_accuracy"])
    for trace in charts["pr"]:
        assert max(trace.x) == 1.0 and min(trace.y) > 0  # recall reaches 1; precision stays positive

    compare.multiselect(key="curve_runs").set_value([table["label"][0]]).run()
    assert [t.name for t in figures(compare)["roc"]] == [table["label"][0], "chance"]


def test_without_the_mlflow_url_no_link_columns(trained, compare) -> None:
    assert not {"mlflow_run", "mlflow_version"} & set(compare.dataframe[0].value.columns)


def test_each_run_and_version_links_to_the_mlflow_ui(
    trained, trained_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, result = trained
    monkeypatch.setenv("CONSOLE_MLFLOW_URL", "http://127.0.0.1:5999/")  # the trailing slash is dropped
    table = open_console(monkeypatch, trained_uri, "Compare").dataframe[0].value
    assert list(table.columns[1:4]) == ["label", "mlflow_run", "mlflow_version"]
    client = MlflowClient()
    versions = {r.run_id: r.version for r in result.runs}
    assert sorted(table["run_id"]) == sorted(versions)
    for row in table.itertuples():
        experiment = client.get_run(row.run_id).info.experiment_id
        assert row.mlflow_run == f"http://127.0.0.1:5999/#/experiments/{experiment}/runs/{row.run_id}"
        name = config.tracking.registered_model
        assert row.mlflow_version == f"http://127.0.0.1:5999/#/models/{name}/versions/{versions[row.run_id]}"


@pytest.mark.slow  # starts a server (see the markers in pyproject.toml)
def test_on_an_mlflow_server_the_links_go_to_its_own_ui(
    trained, trained_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, result = trained
    monkeypatch.setenv("CONSOLE_MLFLOW_URL", "http://127.0.0.1:5999")  # the default store's UI: not this one
    with serve_mlflow(trained_uri, tmp_path / "mlflow.log", 180) as server:
        page = open_console(monkeypatch, trained_uri, "Compare")
        page.sidebar.text_input(key="tracking_uri").set_value(server).run()  # the store, through the server
        assert not page.exception and not page.error, [e.value for e in page.error]
        table = page.dataframe[0].value
        assert sorted(table["run_id"]) == sorted(r.run_id for r in result.runs)
        for row in table.itertuples():
            assert row.mlflow_run.startswith(f"{server}/#/experiments/") and row.mlflow_run.endswith(row.run_id)
