"""The console's settings from the environment, and which MLflow UI shows which store."""

from __future__ import annotations

from console.settings import ConsoleSettings, MlflowLinks


def test_read_from_the_environment_blank_means_unset() -> None:
    settings = ConsoleSettings.from_env(
        {"CONSOLE_MLFLOW_URL": " http://127.0.0.1:5000/ ", "CONSOLE_API_URL": "", "CONSOLE_API_KEY": "k"}
    )
    assert settings == ConsoleSettings(mlflow_url="http://127.0.0.1:5000", api_url=None, api_key="k")
    assert not settings.can_reload_api  # the key alone is not enough
    assert ConsoleSettings.from_env({"CONSOLE_API_URL": "http://a:8000", "CONSOLE_API_KEY": "k"}).can_reload_api
    assert "k" not in repr(settings)  # the key is never printed


def test_which_mlflow_ui_shows_the_store() -> None:
    settings = ConsoleSettings(mlflow_url="http://127.0.0.1:5000")
    assert settings.mlflow_links("sqlite:////s/mlflow.db", default_store=True) == MlflowLinks("http://127.0.0.1:5000")
    assert settings.mlflow_links("sqlite:////other/mlflow.db", default_store=False) is None  # not the UI's store
    # An MLflow server is its own UI, whatever the console was told.
    assert settings.mlflow_links("http://mlflow:5000/", default_store=False) == MlflowLinks("http://mlflow:5000")
    assert ConsoleSettings().mlflow_links("sqlite:////s/mlflow.db", default_store=True) is None


def test_the_mlflow_ui_routes() -> None:
    links = MlflowLinks("http://127.0.0.1:5000")
    assert links.run("3", "abc123") == "http://127.0.0.1:5000/#/experiments/3/runs/abc123"
    assert links.version("air paradise/sentiment", "7") == (
        "http://127.0.0.1:5000/#/models/air%20paradise%2Fsentiment/versions/7"
    )
