"""Declaring zero through the log: a clear declaration with an empty holdings list, and a
commitment to no records, are both a party's word that it holds nothing; a declaration without
holdings (aggregates only) still cannot be checked item by item."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from detente.agreement.loader import load_agreement
from detente.compliance.check import check
from detente.desk import Desk
from detente.model.parties import Role
from detente.scenarios import agreement_files
from detente.workspace import Workspace

AT = dt.date(2022, 3, 1)
BAN = next(f for f in agreement_files("2022") if f.stem == "inf-range-ban")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.create(tmp_path / "ws", "detente.test/zero")
    for p in ("US", "RU"):
        ws.add_party(p, p, roles=frozenset({Role.DECLARANT, Role.INSPECTOR}), witness_name=None)
    return ws


def ru_findings(ws: Workspace) -> list[tuple[str, object, str]]:
    res = check([load_agreement(BAN)], ws.log(writable=False), AT, hypothetical=True)
    return [(f.status, f.value, f.explanation) for f in res.findings if f.party == "RU"]


@pytest.mark.parametrize("how", ["clear", "committed"])
def test_a_declaration_of_nothing_is_compliant(ws: Workspace, how: str) -> None:
    desk = Desk(ws, "RU", clock=lambda: dt.datetime(2022, 3, 1, 12, tzinfo=dt.UTC))
    if how == "clear":
        desk.append("declaration", {"as_of": "2022-03-01", "holdings": [], "sites": [], "aggregates": {}})
    else:
        desk.declare(AT, [])  # a commitment to zero records: no disclosure needed to know it is zero
    found = ru_findings(ws)
    assert found
    assert all(status == "compliant" and value == 0 for status, value, _ in found), found


def test_aggregates_only_stays_unverified(ws: Workspace) -> None:
    desk = Desk(ws, "RU", clock=lambda: dt.datetime(2022, 3, 1, 12, tzinfo=dt.UTC))
    desk.append("declaration", {"as_of": "2022-03-01", "sites": [], "aggregates": {"GLCM": 0}})
    found = ru_findings(ws)
    assert found
    assert all(status == "unverified" and "aggregates only" in text for status, _, text in found)
