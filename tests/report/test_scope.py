"""A workspace about two other states shows those states only.

Tried as a new user would: an agreement between India and Pakistan in a fresh workspace. The
report and the dashboard must speak of that agreement and its parties, with no negotiation section
(the workspace tracks no proposal) and no analysis (none was asked for), and nothing of the 2022
scenario the package ships.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from detente.dashboard.app import create_app
from detente.dashboard.views import Dashboard
from detente.desk import Desk
from detente.model.parties import Role
from detente.report.build import build_report
from detente.report.render import render_html
from detente.workspace import Workspace

AGREEMENT = """
agreement: south-asia-missile-limit
title: South Asian ballistic missile ceiling
legal_status: political-commitment
signed: 2024-01-01
entry_into_force: 2024-02-01
parties: [{id: IN, name: Republic of India}, {id: PK, name: Islamic Republic of Pakistan}]
definitions:
  attributes:
    range_km: {type: number}
  categories:
    ballistic missile: {attributes: [range_km]}
sites:
  - {id: base-north, name: Northern base, owner: IN, host: IN, kind: missile-base, location: [77.2, 28.6]}
  - {id: base-west, name: Western base, owner: PK, host: PK, kind: missile-base, location: [67.0, 24.9]}
obligations:
  - id: ceiling
    kind: limit
    clause: "Art. 1"
    select: 'category == "ballistic missile" and range_km >= 500'
    max: 40
"""

#: Words that belong to the shipped 2022 scenario, not to this workspace.
FOREIGN = ("Russia", "United States", "New START", "Tomahawk", "Aegis", "Deveselu", "Redzikowo",
           "2022 offer", "NATO", " US ", " RU ")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.create(tmp_path / "ws", "detente.test/south-asia")
    roles = frozenset({Role.DECLARANT, Role.INSPECTOR})
    ws.add_party("IN", "Republic of India", roles=roles, witness_name="witness.in.test")
    ws.add_party("PK", "Islamic Republic of Pakistan", roles=roles, witness_name="witness.pk.test")
    path = tmp_path / "agreement.yaml"
    path.write_text(AGREEMENT)
    ws.adopt(path)
    t = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for party, site, count in (("IN", "base-north", 30), ("PK", "base-west", 45)):
        desk = Desk(ws, party, clock=lambda: t)
        desk.append("declaration", {"as_of": "2024-03-01", "sites": [], "aggregates": {},
                                    "holdings": [{"site": site, "category": "ballistic missile",
                                                  "count": count, "attributes": {"range_km": 900}}]})
    return ws


def test_the_report_is_about_these_states_only(ws: Workspace) -> None:
    report = build_report(ws, dt.date(2024, 3, 1))
    assert [a.id for a in report.agreements] == ["south-asia-missile-limit"]
    assert report.negotiation is None  # no proposals tracked: no negotiation section
    assert report.analysis is None
    assert not report.plots
    parties = {f.party for a in report.agreements for o in a.obligations for f in o.findings}
    assert parties == {"IN", "PK"}
    assert [f.party for f in report.violations] == ["PK"]  # 45 against a ceiling of 40
    html = render_html(report)
    for word in FOREIGN:
        assert word not in html, word
    assert "Negotiation" not in html


def test_the_dashboard_is_about_these_states_only(ws: Workspace) -> None:
    c = TestClient(create_app(Dashboard.open(ws)))
    o = c.get("/dashboard/api/overview").json()
    assert o["parties"] == ["IN", "PK"]
    assert o["proposals"] == []
    assert o["plots"] == []
    assert [a["id"] for a in o["agreements"]] == ["south-asia-missile-limit"]
    f = c.get("/dashboard/api/findings", params={"at": "2024-03-01"}).json()
    assert {x["party"] for x in f["findings"]} == {"IN", "PK"}
    assert c.get("/dashboard/api/negotiation", params={"at": "2024-03-01"}).json() == {
        "diffs": [], "impacts": []}
    sites = {s["id"] for s in c.get("/dashboard/api/map").json()["sites"]}
    assert sites == {"base-north", "base-west"}
