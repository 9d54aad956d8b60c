"""Who sees what (docs/service.md): committed per-site holdings reach the parties only.

The demo workspace holds the 1 March 2022 declarations as salted commitments, disclosed to the
partner; findings computed from them name sites and counts (Redzikowo: 3 MK 41 launchers). Anyone
without a party's token, the dashboard (always public) and the public edition of the report see
the status, the value and the bound, and the evidence with its proofs, but not those rows.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from detente.compliance.findings import Finding
from detente.dashboard.app import create_app as dashboard_app
from detente.dashboard.views import Dashboard
from detente.report.build import build_report
from detente.service.app import Settings, create_app
from detente.workspace import Workspace
from service.conftest import login

AT = "2022-04-30"
#: What a party sees that the public must not: the launchers at each Aegis Ashore site.
SECRET_SITES = ("redzikowo", "deveselu")


def _leaks(findings: list[dict[str, Any]]) -> list[str]:
    """Every place a public finding carries item-level detail."""
    out = []
    for f in findings:
        if f["sites"] or f["items"] or f["details"]:
            out.append(f"{f['agreement']}/{f['obligation']}/{f['party']}: rows")
        text = json.dumps({k: v for k, v in f.items() if k != "clause"})
        for site in SECRET_SITES:
            if site in text.lower():
                out.append(f"{f['agreement']}/{f['obligation']}/{f['party']}: names {site}")
    return out


@pytest.fixture(scope="module")
def api(demo_ws: Path) -> TestClient:
    ws = Workspace.open(demo_ws)
    return TestClient(create_app(ws, Settings(), dashboard=True), raise_server_exceptions=False)


def test_the_public_sees_no_committed_rows(api: TestClient) -> None:
    r = api.get("/v1/findings", params={"at": AT})
    assert r.status_code == 200, r.text
    findings = r.json()["findings"]
    assert findings
    assert _leaks(findings) == []
    # what the public does see: statuses, values and bounds, and every finding's evidence with its
    # inclusion proof against the checkpoint
    counted = [f for f in findings if f["kind"] == "limit" and f["value"] is not None]
    assert counted
    assert all(e["inclusion_proof"] is not None for f in findings for e in f["evidence"])


def test_a_party_sees_the_items(api: TestClient, demo_ws: Path) -> None:
    c = login(TestClient(api.app, raise_server_exceptions=False), Workspace.open(demo_ws).party_key("RU"))
    findings = c.get("/v1/findings", params={"at": AT}).json()["findings"]
    cap = [f for f in findings if f["kind"] == "capability" and f["party"] == "US"]
    assert any(i["site"] == "redzikowo" for f in cap for i in f["items"])


def test_the_dashboard_is_public(demo_ws: Path) -> None:
    board = Dashboard.open(Workspace.open(demo_ws))
    c = TestClient(dashboard_app(board))
    findings = c.get("/dashboard/api/findings", params={"at": AT}).json()["findings"]
    assert findings
    assert _leaks(findings) == []
    neg = c.get("/dashboard/api/negotiation", params={"at": "2022-03-01"}).json()
    rows = [x for imp in neg["impacts"] for rows in imp["parties"].values() for x in rows]
    assert rows  # the drafts would be breached…
    assert all(not x["sites"] and not x["items"] for x in rows)  # …but not where, in public


def test_the_public_edition_of_the_report(demo_ws: Path) -> None:
    ws = Workspace.open(demo_ws)
    full = build_report(ws, dt.date(2022, 4, 30))
    public = build_report(ws, dt.date(2022, 4, 30), public=True)
    every: list[Finding] = [f for a in public.agreements for o in a.obligations for f in o.findings]
    assert _leaks([f.to_json() for f in every]) == []
    assert all(c["site"] is None for c in public.inspections)
    assert any(f.items for a in full.agreements for o in a.obligations for f in o.findings)
    # the same findings, the same statuses and values: only the detail is withheld
    pairs = zip((f for a in full.agreements for o in a.obligations for f in o.findings), every, strict=True)
    assert all((a.status, a.value, a.bound) == (b.status, b.value, b.bound) for a, b in pairs)
