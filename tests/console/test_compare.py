"""Compare page on the session's tiny trained store: the table lists the runs, the filters
work, and every chart is built from the runs' own logged numbers."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from tests.console.conftest import figures, open_console


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
