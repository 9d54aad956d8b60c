"""Schemathesis against the published OpenAPI document: generated requests, as the public and as
an authenticated party, never get a 5xx."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from detente.model.parties import Role
from detente.scenarios import agreement_files
from detente.service.app import Settings, create_app
from detente.workspace import Workspace
from service.conftest import login

# The schema is read at import (schemathesis parametrizes from it), so the app exists at import too.
_ws_dir = Path(tempfile.mkdtemp(prefix="detente-schemathesis-"))
atexit.register(shutil.rmtree, _ws_dir, True)
_ws = Workspace.create(_ws_dir / "ws", "detente.test/schemathesis")
_ws.add_party("US", "US", roles=frozenset({Role.DECLARANT, Role.INSPECTOR}), witness_name="witness.us.test")
_ws.adopt(next(f for f in agreement_files("2022") if f.stem == "aegis-ashore-transparency"))
APP = create_app(_ws, Settings(rate=1e6, burst=1e6, public_rate=1e6, public_burst=1e6), dashboard=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def token() -> str:
    from detente.envelope.keys import read_private_key

    c = login(TestClient(APP), read_private_key(_ws.secrets / "US.key"))
    return str(c.headers["Authorization"])


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(checks=[not_a_server_error])
    case.headers = {**(case.headers or {}), "Authorization": token}
    case.call_and_validate(checks=[not_a_server_error])
