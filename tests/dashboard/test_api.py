"""The dashboard's JSON: public metadata only, findings with proofs that verify, and nothing from
the disk but the listed plots."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient

from detente.dashboard.app import create_app
from detente.dashboard.views import Dashboard
from detente.log.merkle import verify_inclusion
from detente.log.note import NoteVerifier, open_checkpoint


def client(board: Dashboard) -> TestClient:
    return TestClient(create_app(board))


def test_overview_and_findings(board: Dashboard) -> None:
    c = client(board)
    o = c.get("/dashboard/api/overview").json()
    assert o["size"] == 23
    assert o["default_at"] == "2022-04-08"  # the demo's last record, not today
    assert {a["id"] for a in o["agreements"]} == {"new-start", "aegis-ashore-transparency",
                                                   "inf-range-ban", "ukraine-non-deployment"}
    open_checkpoint(o["checkpoint"]["note"], NoteVerifier.from_vkey(o["operator_vkey"]), o["origin"])
    f = c.get("/dashboard/api/findings", params={"at": "2022-04-30"}).json()
    assert f["at"] == "2022-04-30"
    cited = 0
    root = base64.b64decode(f["checkpoint"]["root_hash"])
    for finding in f["findings"]:
        for e in finding["evidence"]:
            proof = [base64.b64decode(p) for p in e["inclusion_proof"]]
            verify_inclusion(e["index"], f["checkpoint"]["size"], base64.b64decode(e["leaf_hash"]),
                             proof, root)
            cited += 1
    assert cited > 30
    hyp = {x["agreement"] for x in f["findings"] if x["hypothetical"]}
    assert hyp == {"aegis-ashore-transparency", "inf-range-ban", "ukraine-non-deployment"}


def test_timeline_is_metadata_only(board: Dashboard) -> None:
    rows = client(board).get("/dashboard/api/timeline").json()
    assert len(rows) == 23
    assert set(rows[0]) == {"index", "kind", "author", "seq", "signed_at"}
    assert "holdings" not in json.dumps(rows)


def test_map(board: Dashboard) -> None:
    m = client(board).get("/dashboard/api/map").json()
    ids = {s["id"] for s in m["sites"]}
    assert {"deveselu", "redzikowo", "kamyshlov"} <= ids
    names = {b["name"] for b in m["borders"]}
    assert {"russia", "ukraine", "romania", "united-states"} <= names
    assert "atlantic-to-urals" not in names


def test_static_and_plots_serve_only_what_is_listed(board: Dashboard) -> None:
    c = client(board)
    page = c.get("/dashboard/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert c.get("/dashboard/static/app.js").status_code == 200
    for bad in ("/dashboard/static/index.html", "/dashboard/static/..%2f..%2fkeys.json",
                "/dashboard/analysis/comparison.json", "/dashboard/analysis/..%2fkeys.json"):
        assert c.get(bad).status_code == 404, bad
    assert c.get("/dashboard/analysis/detection-vs-quota.svg").status_code == 200
    assert c.get("/dashboard/api/findings", params={"at": "not-a-date"}).status_code == 422
