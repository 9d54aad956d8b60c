"""A workspace with two parties (each with a witness key), the Aegis Ashore mechanism adopted and
a few records; an in-process client per role, and helpers to sign."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from detente.codec import b64
from detente.envelope.keys import SigningKey, read_private_key
from detente.envelope.record import make_record
from detente.model.parties import Role
from detente.scenarios import agreement_files
from detente.service.app import Settings, create_app
from detente.service.auth import auth_message
from detente.workspace import Workspace

ORIGIN = "detente.test/service"


@dataclass
class Env:
    ws: Workspace
    app_client: Callable[..., TestClient]
    seq: dict[str, int]

    def key(self, party: str, witness: bool = False) -> SigningKey:
        return read_private_key(self.ws.secrets / f"{party}{'-witness' if witness else ''}.key")

    def envelope(self, author: str, kind: str = "statement", body: dict[str, Any] | None = None,
                 *, key: SigningKey | None = None) -> dict[str, Any]:
        self.seq[author] = self.seq.get(author, 0) + 1
        env = make_record(kind, author, self.seq[author], body or {"text": f"{author} {self.seq[author]}"},
                          key or self.key(author), log=ORIGIN,
                          signed_at=dt.datetime.now(dt.UTC).replace(microsecond=0))
        return env.to_json()


def login(c: TestClient, key: SigningKey) -> TestClient:
    origin = c.get("/v1/log").json()["origin"]
    ch = c.post("/v1/auth/challenge", json={"keyid": key.keyid}).json()["challenge"]
    got = c.post("/v1/auth/token", json={"keyid": key.keyid, "challenge": ch,
                                         "signature": b64(key.sign(auth_message(origin, ch)))})
    assert got.status_code == 200, got.text
    c.headers["Authorization"] = f"Bearer {got.json()['token']}"
    return c


@pytest.fixture
def env(tmp_path: Path) -> Env:
    ws = Workspace.create(tmp_path / "ws", ORIGIN)
    roles = frozenset({Role.DECLARANT, Role.INSPECTOR})
    ws.add_party("US", "United States", roles=roles, witness_name="witness.us.test")
    ws.add_party("RU", "Russia", roles=roles, witness_name="witness.ru.test")
    for p in ("US", "RU"):
        ws.witness(p).initialise()  # new witnesses start from the empty tree, explicitly
    ws.adopt(next(f for f in agreement_files("2022") if f.stem == "aegis-ashore-transparency"))

    def make(settings: Settings | None = None) -> TestClient:
        return TestClient(create_app(ws, settings or Settings(), dashboard=False),
                          raise_server_exceptions=False)

    return Env(ws, make, {})
