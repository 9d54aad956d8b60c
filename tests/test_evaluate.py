"""The evaluator on small hand-built states: boundaries, counting rules, capability presumption and
verified configurations, notification and exchange timing, reciprocity, proposals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from detente.agreement.loader import load_agreement
from detente.agreement.model import Agreement
from detente.compliance.evaluate import evaluate
from detente.compliance.findings import Finding
from detente.compliance.projection import Declaration, InspectionReport, Notification, Projection
from detente.model.records import LoggedRecord

AT = dt.date(2022, 3, 1)
T = dt.datetime(2022, 3, 1, 12, tzinfo=dt.UTC)

AGREEMENT = """
agreement: t
title: Test treaty
legal_status: {status}
signed: 2020-01-01
entry_into_force: {eif}
withdrawal: {{clause: "Art. X", notice_days: 90}}
parties: [{{id: US, name: U}}, {{id: RU, name: R}}]
definitions:
  attributes:
    deployed: {{type: bool}}
    warheads: {{type: integer}}
    range_km: {{type: number}}
    missile_type: {{type: enum, values: [cruise, ballistic]}}
    can_launch: {{type: list}}
  categories:
    ICBM: {{attributes: [deployed, warheads]}}
    heavy bomber: {{attributes: [deployed]}}
    Tomahawk: {{defaults: {{missile_type: cruise, range_km: 1600}}}}
    MK 41 launcher: {{defaults: {{can_launch: [Tomahawk]}}}}
sites:
  - {{id: dev, name: D, owner: US, host: RO, kind: aegis-ashore, location: [24.41, 44.08]}}
obligations:
  - id: warheads
    kind: limit
    clause: "Art. 1"
    select: 'category in ["ICBM", "heavy bomber"] and deployed'
    sum: warheads
    counting: [{{where: 'category == "heavy bomber"', counts_as: 1}}]
    max: 10
  - id: no-tomahawk-capable
    kind: capability
    clause: "Art. 2"
    parties: [US]
    launcher: 'category == "MK 41 launcher"'
    banned: 'missile_type == "cruise" and 500 <= range_km <= 5500'
    sites: [dev]
  - id: notify-moves
    kind: notify
    clause: "Art. 3"
    event: movement
    within_days: 5
  - id: exchange
    kind: exchange
    clause: "Art. 4"
    as_of: ["09-01"]
    due_days: 30
  - id: mutual
    kind: ban
    clause: "Art. 5"
    select: 'category == "ICBM" and warheads > 5'
    conditions: [{{reciprocal: mutual}}]
"""


def agreement(tmp_path: Path, status: str = "ratified-treaty", eif: str = "2021-01-01") -> Agreement:
    p = tmp_path / "t.yaml"
    p.write_text(AGREEMENT.format(status=status, eif=eif))
    return load_agreement(p)


def decl(index: int, party: str, holdings: list[dict[str, Any]], as_of: dt.date = AT,
         signed: dt.datetime = T) -> Declaration:
    rec = LoggedRecord(index, "declaration", party, index + 1, signed, {})
    items = tuple({**h, "party": party} for h in holdings)
    return Declaration(rec, as_of, items, {}, {})


def find(fs: list[Finding], obligation: str, party: str) -> Finding:
    (f,) = [f for f in fs if f.obligation == obligation and f.party == party]
    return f


def run(ag: Agreement, h: Projection, at: dt.date = AT) -> list[Finding]:
    return evaluate(ag, h.at(at))


@pytest.mark.parametrize(("icbm_warheads", "status"), [(4, "compliant"), (5, "violation")])
def test_limit_boundary_and_counting_rule(tmp_path: Path, icbm_warheads: int, status: str) -> None:
    h = Projection()
    h.declarations.append(decl(0, "US", [
        {"site": "a", "category": "ICBM", "count": 2,
         "attributes": {"deployed": True, "warheads": icbm_warheads}},
        {"site": "b", "category": "heavy bomber", "count": 2, "attributes": {"deployed": True}},
        {"site": "b", "category": "heavy bomber", "count": 9, "attributes": {"deployed": False}},
    ]))
    f = find(run(agreement(tmp_path), h), "warheads", "US")
    assert (f.status, f.value, f.bound) == (status, 2 * icbm_warheads + 2, 10)  # each bomber counts 1
    assert f.evidence[0].index == 0
    assert (f.legal is not None) == (status == "violation")
    if f.legal:
        assert "Art. X" in f.legal


def test_missing_summed_attribute_is_unverified(tmp_path: Path) -> None:
    h = Projection()
    h.declarations.append(decl(0, "US", [{"site": "a", "category": "ICBM", "count": 3,
                                          "attributes": {"deployed": True}}]))
    f = find(run(agreement(tmp_path), h), "warheads", "US")
    assert f.status == "unverified"
    assert "lower bound" in f.explanation


def test_no_declaration_is_unverified(tmp_path: Path) -> None:
    f = find(run(agreement(tmp_path), Projection()), "warheads", "RU")
    assert f.status == "unverified"


def test_capability_presumed_then_verified_by_inspection(tmp_path: Path) -> None:
    ag = agreement(tmp_path)
    h = Projection()
    h.declarations.append(decl(0, "US", [{"site": "dev", "category": "MK 41 launcher", "count": 3}]))
    f = find(run(ag, h), "no-tomahawk-capable", "US")
    assert (f.status, f.value) == ("violation", 3)
    assert "presumes" in f.explanation
    report = LoggedRecord(1, "inspection-report", "RU", 1, T, {})
    h.reports.append(InspectionReport(report, "dev", "US", (
        {"category": "MK 41 launcher", "can_launch": ["SM-3"]},)))
    f = find(run(ag, h), "no-tomahawk-capable", "US")
    assert (f.status, f.value) == ("compliant", 0)
    assert 1 in [e.index for e in f.evidence]  # the report is cited


def test_late_notification_is_a_violation(tmp_path: Path) -> None:
    h = Projection()
    for i, delay in enumerate((2, 9)):
        rec = LoggedRecord(i, "notification", "RU", i + 1, T, {})
        h.notifications.append(Notification(rec, "movement", T - dt.timedelta(days=delay)))
    f = find(run(agreement(tmp_path), h), "notify-moves", "RU")
    assert (f.status, f.value) == ("violation", 1)
    assert [e.index for e in f.evidence] == [1]


@pytest.mark.parametrize(("signed", "status"), [
    (dt.datetime(2021, 9, 30, tzinfo=dt.UTC), "compliant"),
    (dt.datetime(2021, 10, 15, tzinfo=dt.UTC), "violation"),
    (None, "violation"),
])
def test_exchange_on_time_late_or_missing(tmp_path: Path, signed: dt.datetime | None, status: str) -> None:
    h = Projection()
    if signed is not None:
        h.declarations.append(decl(0, "US", [], as_of=dt.date(2021, 9, 1), signed=signed))
    f = find(run(agreement(tmp_path), h), "exchange", "US")
    assert f.status == status


def test_reciprocity_suspends_the_other_side(tmp_path: Path) -> None:
    h = Projection()
    h.declarations.append(decl(0, "RU", [{"site": "x", "category": "ICBM", "count": 1,
                                          "attributes": {"warheads": 10}}]))
    h.declarations.append(decl(1, "US", [{"site": "y", "category": "ICBM", "count": 1,
                                          "attributes": {"warheads": 10}}]))
    fs = run(agreement(tmp_path), h)
    # each breaks the ban; each is released by the other's breach
    assert find(fs, "mutual", "RU").status == "not_applicable"
    assert "in violation" in find(fs, "mutual", "RU").explanation
    h2 = Projection()
    h2.declarations.append(decl(0, "RU", [{"site": "x", "category": "ICBM", "count": 1,
                                           "attributes": {"warheads": 10}}]))
    h2.declarations.append(decl(1, "US", []))
    fs = run(agreement(tmp_path), h2)
    assert find(fs, "mutual", "RU").status == "violation"


def test_not_in_force_and_hypothetical(tmp_path: Path) -> None:
    ag = agreement(tmp_path, eif="2023-01-01")
    h = Projection()
    h.declarations.append(decl(0, "US", [{"site": "a", "category": "ICBM", "count": 9,
                                          "attributes": {"deployed": True, "warheads": 9}}]))
    f = find(evaluate(ag, h.at(AT)), "warheads", "US")
    assert f.status == "not_applicable"
    f = find(evaluate(ag, h.at(AT), hypothetical=True), "warheads", "US")
    assert (f.status, f.hypothetical) == ("violation", True)


def test_correction_with_the_same_as_of_supersedes(tmp_path: Path) -> None:
    h = Projection()
    h.declarations.append(decl(0, "US", [{"site": "a", "category": "ICBM", "count": 9,
                                          "attributes": {"deployed": True, "warheads": 9}}]))
    h.declarations.append(decl(1, "US", [{"site": "a", "category": "ICBM", "count": 1,
                                          "attributes": {"deployed": True, "warheads": 1}}]))
    f = find(run(agreement(tmp_path), h), "warheads", "US")
    assert (f.status, f.value, f.evidence[0].index) == ("compliant", 1, 1)
