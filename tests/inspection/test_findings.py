"""What the evaluator makes of a round: reports against opened records, discrepancies, refusals
and defaults, and committed declarations with and without their full records."""

from __future__ import annotations

import datetime as dt
import json

from detente.agreement.loader import load_agreement
from detente.compliance.check import check, read_disclosed
from detente.compliance.findings import Finding
from detente.desk import disclose, open_log
from detente.scenarios import agreement_files
from inspection.conftest import Round, aegis

AG = "aegis-ashore-transparency"
RU_OB = "russian-visits-to-aegis-ashore"
AT = dt.date(2022, 4, 30)


def findings(rnd: Round, *files: str) -> list[Finding]:
    ags = [load_agreement(aegis())] if not files else [
        load_agreement(f) for f in agreement_files("2022") if f.stem in files]
    log = open_log(rnd.ws)
    return list(check(ags, log, AT, hypothetical=True, disclosed=read_disclosed(rnd.ws.disclosed)).findings)


def one(fs: list[Finding], obligation: str, party: str) -> Finding:
    (f,) = [f for f in fs if f.obligation == obligation and f.party == party and f.interpretation in
            (None, party)]
    return f


def deveselu_visit(rnd: Round, found: list[dict[str, object]], *, open_: bool = True) -> None:
    rnd.ru.request(AG, RU_OB, "RU-1", "challenge", rnd.now[0] + dt.timedelta(hours=48), site="deveselu")
    rnd.later(hours=48)
    if open_:
        rnd.us.open_records("RU-1")
    rnd.later(hours=5)
    rnd.ru.report("RU-1", leader="RU team leader", found=found,
                  configurations=[{"category": "MK 41 launcher", "can_launch": ["SM-3"]}])
    rnd.later(minutes=20)
    rnd.us.countersign("RU-1")


AS_DECLARED = [{"category": "MK 41 launcher", "count": 3}, {"category": "SM-3", "count": 24},
               {"category": "Tomahawk", "count": 0}]


def test_a_visit_that_finds_what_was_declared(rnd: Round) -> None:
    deveselu_visit(rnd, AS_DECLARED)
    fs = findings(rnd)
    host = one(fs, RU_OB, "US")
    assert host.status == "compliant", host.explanation
    assert "found as declared at RU-1" in host.explanation
    (acc,) = host.to_json()["details"]["inspections"]
    assert acc["declared"] == {"MK 41 launcher": 3, "SM-3": 24}
    assert acc["countersigned"] is True
    roles = {e.role for e in host.evidence}
    assert {"inspection report on deveselu", "opened declaration records at deveselu",
            "escort's countersignature"} <= roles
    assert all(e.proof is not None for e in host.evidence)  # every citation proven
    # the capability rule reads the US launchers site by site: once the US declaration is
    # disclosed to this workspace, the verified configuration lifts the presumption at Deveselu,
    # while Redzikowo, not visited, stays presumed capable
    cap = one(fs, "aegis-launchers-not-tomahawk-capable", "US")
    assert cap.status == "unverified"  # sealed: the launchers cannot be read item by item
    (full,) = sorted((rnd.ws.path / "private" / "US").glob("declaration-*.json"))
    disclose(rnd.ws, full)
    cap = one(findings(rnd), "aegis-launchers-not-tomahawk-capable", "US")
    assert cap.status == "violation"
    rows = {i["site"]: i for i in cap.items}
    assert rows["deveselu"]["banned"] == []
    assert rows["deveselu"]["basis"].startswith("verified")
    assert rows["redzikowo"]["banned"] == ["Tomahawk"]


def test_a_discrepancy_is_a_violation(rnd: Round) -> None:
    deveselu_visit(rnd, [{"category": "MK 41 launcher", "count": 3}, {"category": "Tomahawk", "count": 2}])
    host = one(findings(rnd), RU_OB, "US")
    assert host.status == "violation"
    assert "Tomahawk: found 2, declared 0" in host.explanation
    assert host.legal is not None  # political commitment: the consequence is said


def test_a_report_with_nothing_opened_is_unverified(rnd: Round) -> None:
    deveselu_visit(rnd, AS_DECLARED, open_=False)
    host = one(findings(rnd), RU_OB, "US")
    assert host.status == "unverified"
    assert "opened no declared records" in host.explanation


def test_identifiers_seen_but_not_declared(rnd: Round) -> None:
    deveselu_visit(rnd, [{"category": "SM-3", "count": 24, "identifiers": ["SM3-0001"]}])
    host = one(findings(rnd), RU_OB, "US")
    assert host.status == "violation"
    assert "identifiers seen but not declared: SM3-0001" in host.explanation


def test_ambiguities_are_listed(rnd: Round) -> None:
    deveselu_visit(rnd, AS_DECLARED)
    rnd.ru.ambiguity("RU-1", "fire-control software", "not shown to the team; configuration taken "
                     "on the escort's word")
    host = one(findings(rnd), RU_OB, "US")
    assert "ambiguity recorded by RU on fire-control software" in host.explanation
    assert any(e.role == "ambiguity" for e in host.evidence)


def test_a_default_in_the_draw_is_a_refusal(rnd: Round) -> None:
    ob = "us-visits-to-russian-bases"
    rnd.us.request(AG, ob, "US-D", "joint-random", rnd.now[0] + dt.timedelta(hours=48))
    rnd.us.commit("US-D")
    rnd.later(hours=25)
    rnd.us.claim_default("US-D", "RU")
    host = one(findings(rnd), ob, "RU")
    assert host.status == "violation"
    assert "refused or defaulted on 1" in host.explanation
    assert [e.role for e in host.evidence] == ["default in the draw"]


def test_sealed_declarations_count_only_once_disclosed(rnd: Round) -> None:
    """Committed declarations: without the full file, New START cannot be counted item by item;
    once disclosed (and verified against the logged root) it counts exactly as plain holdings."""
    f = one(findings(rnd, "new-start"), "deployed-warheads", "US")
    assert f.status == "unverified"
    assert "not disclosed to this workspace" in f.explanation
    for party in ("US", "RU"):
        (path,) = (rnd.ws.path / "private" / party).glob("declaration-*.json")
        disclose(rnd.ws, path)
    f = one(findings(rnd, "new-start"), "deployed-warheads", "US")
    assert (f.status, f.value) == ("compliant", 1515)
    # a tampered disclosure is not used: its records no longer rebuild the logged root
    (path,) = (rnd.ws.disclosed / "US").glob("*.json")
    data = json.loads(path.read_text())
    rec = next(r["record"] for r in data["records"] if r["record"]["category"] == "ICBM")
    rec["count"] -= 10
    path.write_text(json.dumps(data))
    f = one(findings(rnd, "new-start"), "deployed-warheads", "US")
    assert (f.status, f.value) == ("unverified", None)


def test_found_and_declared_are_compared_on_the_types_the_team_recorded(rnd: Round) -> None:
    """24 SM-3 found, 24 declared, but of another type: the team recorded the type designation,
    so the comparison is per type, and says which (counting the category alone would pass)."""
    deveselu_visit(rnd, [{"category": "MK 41 launcher", "count": 3},
                         {"category": "SM-3", "count": 24, "attributes": {"system": "SM-3 Block IIA"}}])
    host = one(findings(rnd), RU_OB, "US")
    assert host.status == "violation", host.explanation
    (acc,) = host.to_json()["details"]["inspections"]
    assert acc["discrepancies"] == ["SM-3 (system SM-3 Block IB): found 0, declared 24",
                                    "SM-3 (system SM-3 Block IIA): found 24, declared 0"]
    assert acc["found"] == {"MK 41 launcher": 3, "SM-3 (system SM-3 Block IIA)": 24}


def test_the_same_type_recorded_matches(rnd: Round) -> None:
    deveselu_visit(rnd, [{"category": "MK 41 launcher", "count": 3},
                         {"category": "SM-3", "count": 24, "attributes": {"system": "SM-3 Block IB"}}])
    host = one(findings(rnd), RU_OB, "US")
    assert host.status == "compliant", host.explanation
