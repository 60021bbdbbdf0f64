"""What the console knows of the services beside it, read from the environment (``python -m stack``
sets it): the MLflow UI it links runs and versions to, and the API it asks to reload on a promotion."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip().rstrip("/")
    return value or None


@dataclass(frozen=True)
class MlflowLinks:
    """Pages of one MLflow UI (its hash routes, as the installed MLflow's UI defines them)."""

    url: str
    """The UI's base URL, without a trailing slash."""

    def run(self, experiment_id: str, run_id: str) -> str:
        """A run's page: ``{url}/#/experiments/{experiment_id}/runs/{run_id}``."""
        return f"{self.url}/#/experiments/{quote(str(experiment_id))}/runs/{quote(run_id)}"

    def version(self, name: str, version: str) -> str:
        """A registered version's page: ``{url}/#/models/{name}/versions/{n}``."""
        return f"{self.url}/#/models/{quote(name, safe='')}/versions/{quote(str(version))}"


@dataclass(frozen=True)
class ConsoleSettings:
    """The console's links to the other services; each ``None`` when not set.

    Environment variables (see :meth:`from_env`): ``CONSOLE_MLFLOW_URL``, ``CONSOLE_API_URL``,
    ``CONSOLE_API_KEY``.
    """

    mlflow_url: str | None = None
    """The MLflow UI on the console's default store (``http://127.0.0.1:5000``), as the user's browser
    reaches it: runs and versions link to it."""
    api_url: str | None = None
    """The prediction API as the console's server reaches it (``http://127.0.0.1:8000``): a promotion
    then reloads it."""
    api_key: str | None = field(default=None, repr=False)
    """The API's ``X-API-Key``, which ``POST /model/reload`` requires."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsoleSettings:
        """The settings from ``env`` (default: the process environment); blank values count as unset."""
        env = os.environ if env is None else env
        key = (env.get("CONSOLE_API_KEY") or "").strip() or None
        return cls(mlflow_url=_url(env, "CONSOLE_MLFLOW_URL"), api_url=_url(env, "CONSOLE_API_URL"), api_key=key)

    @property
    def can_reload_api(self) -> bool:
        """Whether a promotion can ask the API to reload (its URL and key are both known)."""
        return bool(self.api_url and self.api_key)

    def mlflow_links(self, tracking_uri: str, default_store: bool) -> MlflowLinks | None:
        """The MLflow UI showing the store at ``tracking_uri``: an MLflow server's own (an ``http(s)``
        URI), else ``mlflow_url`` when it is the default store (the one that UI was started on);
        ``None`` when there is none (another local store chosen in the sidebar)."""
        if tracking_uri.startswith(("http://", "https://")):
            return MlflowLinks(tracking_uri.rstrip("/"))
        if default_store and self.mlflow_url:
            return MlflowLinks(self.mlflow_url)
        return None
