"""Every refusal the issue lists, and the procedure's other guards: each refused with its reason
code and a message that says what to do, and the log byte-for-byte unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from detente.codec import b64
from detente.commitment import Opening
from detente.desk import Desk, open_log, project
from detente.envelope.record import make_record
from detente.errors import RecordRefused
from detente.inspection import draw
from inspection.conftest import Round

AG = "aegis-ashore-transparency"
RU_OB = "russian-visits-to-aegis-ashore"
US_OB = "us-visits-to-russian-bases"


def refused(rnd: Round, code: str, step: Callable[[], Any], match: str | None = None) -> RecordRefused:
    """Run `step`, expect the log to refuse it with `code`, and check nothing was written."""
    log = open_log(rnd.ws)
    before = (log.size(), log.latest().encode())
    with pytest.raises(RecordRefused, match=match) as info:
        step()
    assert info.value.code == code, info.value.message
    assert (log.size(), log.latest().encode()) == before
    return info.value


def arrive(rnd: Round, hours: float = 48) -> dt.datetime:
    return rnd.now[0] + dt.timedelta(hours=hours)


def ru_challenge(rnd: Round, iid: str = "RU-1", site: str = "deveselu") -> None:
    rnd.ru.request(AG, RU_OB, iid, "challenge", arrive(rnd), site=site)


def drawn(rnd: Round, iid: str = "US-D") -> None:
    rnd.us.request(AG, US_OB, iid, "joint-random", arrive(rnd))
    rnd.us.commit(iid)
    rnd.ru.commit(iid)
    rnd.us.reveal(iid)
    rnd.ru.reveal(iid)


# -- the list -----------------------------------------------------------------------------


def test_over_quota(rnd: Round) -> None:
    ru_challenge(rnd, "RU-1", "deveselu")
    rnd.later(hours=1)
    ru_challenge(rnd, "RU-2", "redzikowo")
    rnd.later(hours=1)
    e = refused(rnd, "quota", lambda: ru_challenge(rnd, "RU-3", "deveselu"))
    assert "2 of 2" in e.message
    assert "2022-12-31" in e.message
    # next year the quota is fresh
    rnd.at(dt.datetime(2023, 1, 2, 9, 0, tzinfo=dt.UTC))
    ru_challenge(rnd, "RU-3", "deveselu")


def test_notice_too_short(rnd: Round) -> None:
    e = refused(rnd, "notice", lambda: rnd.ru.request(AG, RU_OB, "RU-1", "challenge", arrive(rnd, 47.5),
                                                    site="deveselu"))
    assert "47.5 hours" in e.message
    assert "at least 48 hours" in e.message


def test_reveal_not_matching_its_commitment(rnd: Round) -> None:
    rnd.us.request(AG, US_OB, "US-D", "joint-random", arrive(rnd))
    rnd.us.commit("US-D")
    rnd.ru.commit("US-D")
    other = draw.commitment("US-D", "RU", b"\x01" * 32)
    assert other  # a value that is not RU's committed one
    refused(rnd, "reveal-mismatch",
            lambda: rnd.ru.append("inspection-reveal", {"inspection": "US-D", "value": (b"\x01" * 32).hex()}),
            match="does not open RU's commitment")


def test_a_party_signing_another_partys_step(rnd: Round) -> None:
    ru_challenge(rnd)
    rnd.later(hours=48)
    rnd.us.open_records("RU-1")
    # the inspected party cannot write the inspectors' report
    refused(rnd, "wrong-party", lambda: rnd.us.append("inspection-report", {
        "inspection": "RU-1", "site": "deveselu", "inspected": "US", "leader": "x", "found": []}))
    # nor can the inspector open the host's records or countersign its own report
    rnd.ru.report("RU-1", leader="RU lead", found=[])
    refused(rnd, "wrong-party", lambda: rnd.ru.countersign("RU-1"))
    # and the inspected party cannot request its own inspection
    refused(rnd, "wrong-party", lambda: rnd.us.request(AG, RU_OB, "RU-9", "challenge", arrive(rnd),
                                                       site="deveselu"))


def test_a_record_forged_in_another_partys_name(rnd: Round) -> None:
    """RU's key on a record whose header says US: refused at the door (signature), before the
    procedure is even asked."""
    env = make_record("inspection-opening", "US", 99, {"inspection": "RU-1", "declaration": 0,
                                                       "openings": []},
                      rnd.ws.party_key("RU"), log=rnd.ws.registry().origin, signed_at=rnd.now[0])
    refused(rnd, "not-author", lambda: open_log(rnd.ws, clock=lambda: rnd.now[0]).append(env.canonical()))


def test_findings_for_another_site(rnd: Round) -> None:
    ru_challenge(rnd)
    rnd.later(hours=48)
    e = refused(rnd, "site", lambda: rnd.ru.append("inspection-report", {
        "inspection": "RU-1", "site": "redzikowo", "inspected": "US", "leader": "x", "found": []}))
    assert "not selected" in e.message


def test_a_replayed_request(rnd: Round) -> None:
    env = make_record("inspection-request", "RU", 2, {
        "inspection": "RU-1", "agreement": AG, "obligation": RU_OB, "method": "challenge",
        "site": "deveselu", "arrival": "2022-04-03T09:00:00Z"},
        rnd.ws.party_key("RU"), log=rnd.ws.registry().origin, signed_at=rnd.now[0])
    log = open_log(rnd.ws, clock=lambda: rnd.now[0])
    log.append(env.canonical())
    refused(rnd, "replay", lambda: log.append(env.canonical()))
    # the same request re-signed with a fresh sequence number is a duplicate inspection, not a new one
    refused(rnd, "duplicate", lambda: rnd.ru.request(AG, RU_OB, "RU-1", "challenge", arrive(rnd),
                                                     site="deveselu"))


def test_an_opening_that_does_not_match_the_root(rnd: Round) -> None:
    ru_challenge(rnd)
    rnd.later(hours=48)
    case = project(rnd.ws).cases["RU-1"]
    assert case.declaration is not None
    full = rnd.us.private_declaration(case.declaration.commitment)
    good = full.open_where(lambda r: r.get("site") == "deveselu")[0]
    lied = Opening(good.index, good.size, {**good.record, "count": good.record["count"] - 1},
                   good.salt, good.path)
    e = refused(rnd, "opening-mismatch", lambda: rnd.us.append("inspection-opening", {
        "inspection": "RU-1", "declaration": case.declaration.index, "openings": [lied.to_json()]}))
    assert "committed root" in e.message
    # an honest record from another site, correctly opened, is refused too: only the selected site
    other = full.open_where(lambda r: r.get("site") != "deveselu")[0]
    refused(rnd, "site", lambda: rnd.us.append("inspection-opening", {
        "inspection": "RU-1", "declaration": case.declaration.index, "openings": [other.to_json()]}))


# -- the order of steps ---------------------------------------------------------------------------


def test_no_findings_without_a_request(rnd: Round) -> None:
    refused(rnd, "no-request", lambda: rnd.ru.append("inspection-report", {
        "inspection": "RU-404", "site": "deveselu", "inspected": "US", "leader": "x", "found": []}))


def test_no_second_draw(rnd: Round) -> None:
    drawn(rnd)
    refused(rnd, "duplicate", lambda: rnd.us.append("inspection-commit", {
        "inspection": "US-D", "commitment": "00" * 32}))
    refused(rnd, "duplicate", lambda: rnd.ru.append("inspection-reveal", {
        "inspection": "US-D", "value": "00" * 32}))


def test_no_reveal_before_both_commit_and_no_report_before_the_draw(rnd: Round) -> None:
    rnd.us.request(AG, US_OB, "US-D", "joint-random", arrive(rnd))
    rnd.us.commit("US-D")
    refused(rnd, "order", lambda: rnd.us.reveal("US-D"), match="waiting for RU")
    rnd.later(hours=48)
    refused(rnd, "order", lambda: rnd.us.append("inspection-report", {
        "inspection": "US-D", "site": "kamyshlov", "inspected": "RU", "leader": "x", "found": []}))


def test_no_report_before_arrival(rnd: Round) -> None:
    ru_challenge(rnd)
    rnd.later(hours=47)
    refused(rnd, "order", lambda: rnd.ru.report("RU-1", leader="x", found=[]), match="arrives at")


def test_late_reveal_and_the_default_it_allows(rnd: Round) -> None:
    rnd.us.request(AG, US_OB, "US-D", "joint-random", arrive(rnd))
    rnd.us.commit("US-D")
    rnd.ru.commit("US-D")
    rnd.us.reveal("US-D")
    refused(rnd, "early", lambda: rnd.us.claim_default("US-D", "RU"))
    rnd.later(hours=24, seconds=1)
    refused(rnd, "late", lambda: rnd.ru.reveal("US-D"))
    refused(rnd, "wrong-party", lambda: rnd.us.claim_default("US-D", "US"))
    rnd.us.claim_default("US-D", "RU")
    assert project(rnd.ws).cases["US-D"].status == "defaulted"
    refused(rnd, "closed", lambda: rnd.ru.refuse("US-D", "too late anyway"))


def test_a_host_that_never_commits_defaults(rnd: Round) -> None:
    rnd.us.request(AG, US_OB, "US-D", "joint-random", arrive(rnd))
    rnd.us.commit("US-D")
    rnd.later(hours=25)
    refused(rnd, "late", lambda: rnd.ru.commit("US-D"))
    rnd.us.claim_default("US-D", "RU")


def test_methods_the_regime_does_not_allow(rnd: Round) -> None:
    refused(rnd, "method", lambda: rnd.ru.request(AG, RU_OB, "RU-1", "joint-random", arrive(rnd)))
    refused(rnd, "site", lambda: rnd.us.request(AG, US_OB, "US-1", "unilateral", arrive(rnd),
                                                site="kapustin-yar"), match="not in the pool")
    refused(rnd, "method", lambda: rnd.us.append("inspection-request", {
        "inspection": "US-1", "agreement": AG, "obligation": US_OB, "method": "joint-random",
        "site": "shuya", "arrival": "2022-04-05T00:00:00Z"}))
    ru_challenge(rnd)
    refused(rnd, "method", lambda: rnd.ru.append("inspection-commit", {
        "inspection": "RU-1", "commitment": "00" * 32}), match="nothing to draw")


def test_unknown_agreement_and_regime(rnd: Round) -> None:
    refused(rnd, "unknown-agreement", lambda: rnd.ru.request("inf-range-ban", RU_OB, "X", "challenge",
                                                            arrive(rnd), site="deveselu"),
            match="adopt it")
    refused(rnd, "unknown-obligation", lambda: rnd.ru.request(AG, "no-such", "X", "challenge",
                                                             arrive(rnd), site="deveselu"))


def test_opening_against_a_declaration_made_after_the_request(rnd: Round) -> None:
    """The host opens against what it had committed before it knew of the inspection."""
    ru_challenge(rnd)
    rnd.later(hours=1)
    r, _ = rnd.us.declare(dt.date(2022, 4, 1), [{"site": "deveselu", "category": "SM-3", "count": 1}])
    rnd.later(hours=47)
    case = project(rnd.ws).cases["RU-1"]
    assert case.declaration is not None
    assert case.declaration.index == rnd.decl_index["US"]
    refused(rnd, "wrong-declaration", lambda: rnd.us.append("inspection-opening", {
        "inspection": "RU-1", "declaration": r.index, "openings": []}))


def test_countersignature_must_verify_over_the_report(rnd: Round) -> None:
    ru_challenge(rnd)
    rnd.later(hours=48)
    rep = rnd.ru.report("RU-1", leader="x", found=[])
    us = rnd.ws.party_key("US")
    bad = us.sign(b"something else")
    refused(rnd, "bad-signature", lambda: rnd.us.append("inspection-countersign", {
        "inspection": "RU-1", "report": rep.index, "keyid": us.keyid, "sig": b64(bad)}))
    ru = rnd.ws.party_key("RU")
    refused(rnd, "forged", lambda: rnd.us.append("inspection-countersign", {
        "inspection": "RU-1", "report": rep.index, "keyid": ru.keyid, "sig": b64(bad)}))


def test_refusal_closes_the_inspection_but_not_after_the_report(rnd: Round) -> None:
    ru_challenge(rnd, "RU-1")
    rnd.us.refuse("RU-1", "not on this date")
    refused(rnd, "closed", lambda: rnd.us.open_records("RU-1"))
    ru_challenge(rnd, "RU-2", "redzikowo")
    rnd.later(hours=48)
    rnd.ru.report("RU-2", leader="x", found=[])
    refused(rnd, "order", lambda: rnd.us.refuse("RU-2", "after the fact"))


def test_malformed_bodies(rnd: Round) -> None:
    ru_challenge(rnd)
    rnd.later(hours=48)
    refused(rnd, "malformed", lambda: rnd.ru.append("inspection-report", {
        "inspection": "RU-1", "site": "deveselu", "inspected": "US", "leader": "x",
        "found": [{"category": "Tomahawk", "count": -1}]}))
    refused(rnd, "malformed", lambda: rnd.ru.append("inspection-report", {
        "inspection": "RU-1", "site": "deveselu", "inspected": "US", "leader": "x",
        "found": [{"category": "Tomahawks", "count": 1}]}), match="not a category")
    refused(rnd, "malformed", lambda: rnd.ru.append("inspection-report", {
        "inspection": "RU-1", "site": "deveselu", "inspected": "US", "leader": "x", "found": [],
        "verdict": "fine"}), match="unknown field")
    refused(rnd, "malformed", lambda: rnd.ru.append("inspection-report", {"inspection": "../x"}))


def test_two_inspectors_racing_for_the_last_slot(rnd: Round) -> None:
    """Two processes, each with its own log object and rule projection: the second to commit is
    judged against the first's request, inside its own write transaction."""
    ru_challenge(rnd, "RU-1")
    clock = lambda: rnd.now[0]  # noqa: E731
    a = Desk(rnd.ws, "RU", clock=clock, log=open_log(rnd.ws, clock=clock))
    b = Desk(rnd.ws, "RU", clock=clock, log=open_log(rnd.ws, clock=clock))
    a.request(AG, RU_OB, "RU-2", "challenge", arrive(rnd), site="redzikowo")
    refused(rnd, "quota", lambda: b.request(AG, RU_OB, "RU-3", "challenge", arrive(rnd), site="deveselu"))
