"""The Streamlit experiment console: launch trainings, compare runs, inspect and promote models.

A thin shell over ``core/`` (run it with ``streamlit run console/app.py``): every number it
shows comes from MLflow through ``core``; it imports nothing from ``api``, ``client_app`` or
``stack``.
"""
