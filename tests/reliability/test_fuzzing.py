"""Schemathesis against the API's own OpenAPI document, in process (WSGI): no 5xx, every answer as documented.

The schema is loaded from :func:`api.openapi.openapi_document` when the module is collected (the lazy
``schemathesis.pytest.from_fixture`` loader does not work with pytest 9), and the first test proves it is
exactly what the running app serves at ``/openapi.json``. Each operation gets ``MAX_EXAMPLES`` generated
cases (positive and negative) plus schemathesis' coverage cases: over 1,000 requests in all.
"""

from __future__ import annotations

import collections

import schemathesis
from hypothesis import HealthCheck, settings

from api.openapi import openapi_document
from tests.reliability.conftest import KEY

MAX_EXAMPLES = 300

schema = schemathesis.openapi.from_dict(openapi_document())
CALLS: collections.Counter[str] = collections.Counter()


def test_fuzzed_schema_is_the_one_the_app_serves(client) -> None:
    assert client.get("/openapi.json").get_json() == schema.raw_schema


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_api_conforms_to_its_own_schema(case, app) -> None:
    # the checks' own follow-up requests (e.g. the same call without the key) go to the app too
    case.operation.app = case.operation.schema.app = app
    case.call_and_validate(app=app, headers=KEY)
    CALLS[case.operation.label] += 1


def test_at_least_a_thousand_cases_were_sent() -> None:
    print(dict(CALLS))
    assert len(CALLS) == len(list(schema.get_all_operations()))
    assert sum(CALLS.values()) >= 1_000, CALLS
