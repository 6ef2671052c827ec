"""Bad input over the whole API: schemathesis generates requests for every operation of
/api/v1/openapi.json (valid and invalid bodies, parameters and headers); every answer must be
no server error, a documented status code and content type, and a body that matches the
documented schema. Bounded here (``JIESU_FUZZ_EXAMPLES``, default 30 per operation);
``python -m bench.api_fuzz`` runs it longer."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jiesu.accounts.models import ApiToken
from jiesu.api.routes import api
from jiesu.orders import actions
from jiesu.wsgi import application

EXAMPLES = int(os.environ.get("JIESU_FUZZ_EXAMPLES", "30"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _schema():
    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = application
    return loaded


SCHEMA = _schema()
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}


@pytest.fixture
def wsgi_calls():
    # Called through WSGI, not Django's test client: keep the test's connection (and its
    # transaction) open across requests, as the test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(city, new_order):
    # Some real orders, so that a generated number sometimes hits one (a received and a
    # dispatched one: the actions meet state guards as well as validation).
    new_order()
    dispatched = new_order()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=dispatched.number, lead_unit="SLT")
    return ApiToken.issue(user=city.users["admin"], name="fuzz")[1]


def test_the_document_has_every_operation():
    assert len(OPERATIONS) >= 20


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_survives_generated_input(label, admin_token, wsgi_calls):
    headers = {"Authorization": f"Bearer {admin_token}"}

    @given(case=OPERATIONS[label].as_strategy())
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                         suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
