"""The Streamlit experiment console: launch trainings, compare runs, inspect and promote models.

A thin shell over ``core/`` (run it with ``streamlit run console/app.py``): every number it
shows comes from MLflow, through ``core`` or read from the store directly (:mod:`console.store`:
experiment ids, learning curves); it imports nothing from ``api``, ``client_app`` or ``stack``.
Each page has its own URL (``/`` Train, ``/compare``, ``/model``, ``/monitoring``: see
:mod:`console.shell`).

Environment variables (:class:`console.settings.ConsoleSettings`; ``python -m stack`` sets all three):

- ``CONSOLE_MLFLOW_URL``: the MLflow UI on the same store (``http://127.0.0.1:5000``). The Compare
  page then links each run and its registered version to it, and the Model page the selected
  version and its run (``{url}/#/experiments/{experiment_id}/runs/{run_id}``,
  ``{url}/#/models/{name}/versions/{n}``).
- ``CONSOLE_API_URL`` and ``CONSOLE_API_KEY``: the prediction API and its ``X-API-Key``. "Promote" on
  the Model page then calls the API's ``POST /model/reload`` and shows its ``GET /model`` answer;
  without them the page says to call the reload route.

``CONSOLE_PASSWORD`` or ``CONSOLE_PASSWORD_SHA256`` (:mod:`console.auth`; ``python -m stack`` generates
one when neither is set): the login that launching and cancelling trainings, choosing another store
and promoting need; with neither, the console is read-only.

``MLFLOW_TRACKING_URI`` (the default store in the sidebar) and the Monitoring page's
``EVENT_STORE_URL`` / ``API_FEEDBACK_DB`` are read as the CLI reads them.
"""
