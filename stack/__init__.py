"""Runs the whole product on loopback: the README's main command (``python -m stack``).

1. ``python -m core up`` in a child process (its memory is given back before serving): train the
   chosen profile if no champion exists, then print the comparison table.
2. The MLflow UI (``mlflow server``) on the same store, backend and artifact root as the training's
   (when ``--tracking-uri`` is an MLflow server, that server's UI is used instead).
3. The prediction API under gunicorn, waiting until ``/ready`` answers 200.
4. The client app under gunicorn, pointed at the API.
5. The console (``streamlit run``), told the MLflow UI's URL and the API's URL and key
   (``CONSOLE_MLFLOW_URL``, ``CONSOLE_API_URL``, ``CONSOLE_API_KEY``: see :mod:`console`).
Then it prints the four URLs and runs until Ctrl-C (or SIGTERM), which stops every server.

It starts the servers as separate processes by their entry points and imports none of ``api``,
``client_app`` or ``console`` (``tests/test_architecture.py``).
"""
