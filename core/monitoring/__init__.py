"""Monitoring: the event store of served predictions and feedback (SQLite or PostgreSQL), the
asynchronous event writer, misclassification alerts, Application Insights telemetry, drift (PSI)
and the daily and weekly report, with their settings read from the environment in one place.

Imports :mod:`core.serving` and below; the API uses ``settings``, ``event_store``, ``events``,
``alerts`` and ``telemetry`` (drift and the report are for the CLI and the console).
"""
