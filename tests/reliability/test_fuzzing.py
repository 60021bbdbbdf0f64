"""Schemathesis against the API's own OpenAPI document, in process (WSGI): no 5xx, every answer as documented.

The schema is loaded from :func:`api.openapi.openapi_document` when the module is collected (the lazy
``schemathesis.pytest.from_fixture`` loader does not work with pytest 9), and the first test proves it is
exactly what the running app serves at ``/openapi.json``. Each operation gets up to ``MAX_EXAMPLES`` generated
cases of each mode (positive and negative), all in one test: over 500 requests in all.
"""

from __future__ import annotations

import collections

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from api.openapi import openapi_document
from tests.reliability.conftest import KEY

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

MAX_EXAMPLES = 150

schema = schemathesis.openapi.from_dict(openapi_document())


def test_fuzzed_schema_is_the_one_the_app_serves(client) -> None:
    assert client.get("/openapi.json").get_json() == schema.raw_schema


def _fuzz(operation, app, mode: GenerationMode) -> int:
    """Send ``operation``'s generated cases of one mode to ``app``, each validated; returns how many."""
    sent = 0

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        nonlocal sent
        case.call_and_validate(app=app, headers=KEY)
        sent += 1

    try:
        run()
    except Unsatisfiable:
        # No invalid input exists for an operation without parameters or body (GET /health in
        # negative mode): nothing to send in that mode.
        assert mode is GenerationMode.NEGATIVE and sent == 0
    return sent


def test_api_conforms_to_its_own_schema(app) -> None:
    # the checks' own follow-up requests (e.g. the same call without the key) go to the app too
    schema.app = app
    calls: collections.Counter[str] = collections.Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        operation.app = app
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls[operation.label] += _fuzz(operation, app, mode)
    print(dict(calls))
    assert all(calls.values()) and len(calls) == len(list(schema.get_all_operations()))
    assert sum(calls.values()) >= 500, calls
