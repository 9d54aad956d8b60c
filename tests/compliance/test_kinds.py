"""Capability, notification, exchange and inspection rules; conditions; legal stages. Hand-built
states, no log: each test says what the record holds and what the finding must be."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compliance.helpers import AT, NOON, SCENARIO, Log, agreement, find, item, utc
from detente.agreement.loader import load_agreement
from detente.agreement.model import Agreement
from detente.compliance.findings import STATUSES

TREATY = """\
agreement: k
title: Kinds Treaty
legal_status: executive-agreement
signed: 2020-06-01
entry_into_force: 2021-01-01
parties: [{id: US, name: United States}, {id: RU, name: Russia}]
hosts: [{id: RO, name: Romania}]
definitions:
  attributes:
    missile_type: {type: enum, values: [cruise, interceptor]}
    range_km: {type: number}
    can_launch: {type: list}
  categories:
    MK 41 launcher: {defaults: {can_launch: [SM-3, Tomahawk]}}
    SM-3: {defaults: {missile_type: interceptor}}
    Tomahawk: {defaults: {missile_type: cruise, range_km: 1600}}
    GLCM: {attributes: [range_km]}
sites:
  - {id: deveselu, name: Deveselu, owner: US, host: RO, kind: aegis-ashore, location: [24.41, 44.08]}
  - {id: kapyar, name: Kapustin Yar, owner: RU, host: RU, kind: missile-brigade, location: [45.8, 48.6]}
obligations:
  - id: not-tomahawk-capable
    kind: capability
    clause: "Art. 1"
    parties: [US]
    launcher: 'category == "MK 41 launcher"'
    banned: 'missile_type == "cruise" and 500 <= range_km <= 5500'
    sites: [deveselu]
  - id: notify-moves
    kind: notify
    clause: "Art. 2"
    event: movement
    within_days: 5
  - id: notify-exercises
    kind: notify
    clause: "Art. 3"
    event: exercise
    advance_days: 3
  - id: data-exchange
    kind: exchange
    clause: "Art. 4"
    as_of: ["03-01", "09-01"]
    due_days: 30
  - id: visits
    kind: inspection
    clause: "Art. 5"
    inspecting: US
    inspected: RU
    quota: {count: 2, per: year}
    notice_hours: 48
    selection: challenge
    sites: [kapyar]
"""


@pytest.fixture
def treaty(tmp_path: Path) -> Agreement:
    return agreement(tmp_path, TREATY)


# ------------------------------------------------------------------ capability


def test_capability_presumed_then_verified_by_inspection(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("MK 41 launcher", 3, site="deveselu"), item("MK 41 launcher", 5, site="at-sea")])
    f = find(log.run(treaty), "not-tomahawk-capable", "US")
    assert (f.status, f.value, f.bound, f.unit) == ("violation", 3, 0, "launcher")
    assert "presumes a launcher capable unless a verified configuration says otherwise" in f.explanation
    assert f.to_json()["details"]["banned_categories"] == ["Tomahawk"]
    (basis,) = f.items
    assert (basis["site"], basis["count"], basis["banned"]) == ("deveselu", 3, ["Tomahawk"])
    assert basis["basis"].startswith("presumed")
    assert [e.index for e in f.evidence] == [0]

    report = log.report("RU", "deveselu", "US", [{"category": "MK 41 launcher", "can_launch": ["SM-3"]}])
    f = find(log.run(treaty), "not-tomahawk-capable", "US")
    assert (f.status, f.value) == ("compliant", 0)
    assert f"verified by inspection report (log entry {report.record.index})" in f.explanation
    assert [e.index for e in f.evidence] == [0, report.record.index]
    assert f.evidence[1].role == "inspection report at deveselu"
    assert f.items[0]["can_launch"] == ["SM-3"]


def test_capability_report_elsewhere_or_on_another_party_does_not_count(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("MK 41 launcher", 2, site="deveselu")])
    log.report("RU", "redzikowo", "US", [{"category": "MK 41 launcher", "can_launch": ["SM-3"]}])
    log.report("US", "deveselu", "RU", [{"category": "MK 41 launcher", "can_launch": ["SM-3"]}])
    log.report("RU", "deveselu", "US", [{"category": "MK 41 launcher", "can_launch": "SM-3"}])  # malformed
    f = find(log.run(treaty), "not-tomahawk-capable", "US")
    assert (f.status, f.value) == ("violation", 2)


def test_capability_latest_report_wins(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("MK 41 launcher", 2, site="deveselu")])
    log.report("RU", "deveselu", "US", [{"category": "MK 41 launcher", "can_launch": ["SM-3"]}],
               utc(2022, 1, 1))
    log.report("RU", "deveselu", "US", [{"category": "MK 41 launcher", "can_launch": ["SM-3", "Tomahawk"]}],
               utc(2022, 2, 1))
    f = find(log.run(treaty), "not-tomahawk-capable", "US")
    assert f.status == "violation"
    assert "Inspection confirmed the capability" in f.explanation


def test_capability_report_after_the_date_is_not_yet_known(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("MK 41 launcher", 2, site="deveselu")])
    log.report("RU", "deveselu", "US", [{"category": "MK 41 launcher", "can_launch": ["SM-3"]}],
               utc(2022, 3, 2))
    assert find(log.run(treaty), "not-tomahawk-capable", "US").status == "violation"
    assert find(log.run(treaty, dt.date(2022, 3, 2)), "not-tomahawk-capable", "US").status == "compliant"


def test_capability_is_not_verified_by_the_inspected_party_itself(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("MK 41 launcher", 2, site="deveselu")])
    log.report("US", "deveselu", "US", [{"category": "MK 41 launcher", "can_launch": ["SM-3"]}])
    assert find(log.run(treaty), "not-tomahawk-capable", "US").status == "violation"


def test_capability_presumed_incapable_and_no_launchers(tmp_path: Path) -> None:
    ag = agreement(tmp_path, TREATY.replace("    sites: [deveselu]\n", "    sites: [deveselu]\n"
                                            "    presumption: incapable\n", 1))
    log = Log()
    log.declare("US", [item("MK 41 launcher", 2, site="deveselu")])
    f = find(log.run(ag), "not-tomahawk-capable", "US")
    assert (f.status, f.value) == ("compliant", 0)
    assert "presumed incapable" in f.explanation
    log = Log()
    log.declare("US", [item("SM-3", 24, site="deveselu")])
    f = find(log.run(ag), "not-tomahawk-capable", "US")
    assert f.status == "compliant"
    assert "declares no launchers matching" in f.explanation


def test_capability_without_declaration_is_unverified(treaty: Agreement) -> None:
    f = find(Log().run(treaty), "not-tomahawk-capable", "US")
    assert f.status == "unverified"


# ------------------------------------------------------------------ notifications


@pytest.mark.parametrize(("delay", "status"), [(dt.timedelta(days=5), "compliant"),
                                               (dt.timedelta(days=5, seconds=1), "violation"),
                                               (dt.timedelta(days=9), "violation")])
def test_notification_within_days(treaty: Agreement, delay: dt.timedelta, status: str) -> None:
    log = Log()
    event = utc(2022, 2, 10)
    n = log.notify("RU", "movement", event, event + delay)
    log.notify("RU", "movement", utc(2022, 2, 1), utc(2022, 2, 2))  # on time
    log.notify("RU", "exercise", utc(2022, 2, 1), utc(2022, 2, 28))  # another event kind
    f = find(log.run(treaty), "notify-moves", "RU")
    assert f.status == status
    if status == "violation":
        assert f.value == 1
        assert [e.index for e in f.evidence] == [n.record.index]  # only the late one is cited
        assert "1 of 2 movement notifications by RU came late" in f.explanation
        assert f"entry {n.record.index}: {delay.days} days after the event (limit 5)" in f.explanation
    else:
        assert f.value == 0
        assert "2 movement notifications by RU, all on time" in f.explanation
        assert sorted(e.index for e in f.evidence) == [0, 1]
    assert find(log.run(treaty), "notify-moves", "US").status == "compliant"  # nothing to notify


@pytest.mark.parametrize(("lead_days", "status"), [(3, "compliant"), (5, "compliant"), (1, "violation"),
                                                   (-2, "violation")])
def test_notification_advance_days(treaty: Agreement, lead_days: int, status: str) -> None:
    log = Log()
    event = utc(2022, 2, 20)
    log.notify("US", "exercise", event, event - dt.timedelta(days=lead_days))
    f = find(log.run(treaty), "notify-exercises", "US")
    assert f.status == status
    if status == "violation":
        assert f"{max(lead_days, 0)} days before the event (required 3)" in f.explanation


def test_notifications_before_entry_into_force_and_after_the_date_do_not_count(treaty: Agreement) -> None:
    log = Log()
    log.notify("RU", "movement", utc(2020, 12, 1), utc(2020, 12, 31))  # before entry into force
    log.notify("RU", "movement", utc(2022, 3, 2), utc(2022, 3, 30))  # after the date evaluated
    f = find(log.run(treaty), "notify-moves", "RU")
    assert (f.status, f.value) == ("compliant", 0)
    assert "No movement notifications by RU in the log" in f.explanation
    f = find(log.run(treaty, dt.date(2022, 3, 31)), "notify-moves", "RU")
    assert (f.status, f.value) == ("violation", 1)


def test_notify_select_judges_only_the_items_it_names(tmp_path: Path) -> None:
    """With `select:`, a late notice about other items is outside the rule; one about the items
    it names is judged; one naming no items (or items it cannot decide) leaves it unverified."""
    ag = agreement(tmp_path, TREATY.replace("    event: movement\n    within_days: 5\n",
                                            "    event: movement\n    within_days: 5\n"
                                            "    select: 'category == \"GLCM\" and range_km >= 500'\n", 1))
    from detente.compliance.projection import Notification

    def note(log: Log, items: object, signed: dt.datetime) -> None:
        rec = log.record("notification", "RU", signed, {"event": "movement", "items": items})
        log.history.notifications.append(Notification(rec, "movement", utc(2022, 2, 1)))

    log = Log()
    note(log, [{"category": "SM-3", "count": 4}], utc(2022, 2, 20))  # late, but not the rule's items
    f = find(log.run(ag), "notify-moves", "RU")
    assert (f.status, f.value) == ("compliant", 0)
    note(log, [{"category": "GLCM", "count": 2, "attributes": {"range_km": 600}}], utc(2022, 2, 20))
    f = find(log.run(ag), "notify-moves", "RU")
    assert (f.status, f.value) == ("violation", 1)
    log = Log()
    note(log, [{"category": "GLCM", "count": 2}], utc(2022, 2, 2))  # no range: cannot tell
    note(log, [], utc(2022, 2, 2))
    f = find(log.run(ag), "notify-moves", "RU")
    assert f.status == "unverified"
    assert "2 movement notification(s) name no items" in f.explanation


# ------------------------------------------------------------------ data exchanges


@pytest.mark.parametrize(
    ("signed", "status", "value"),
    [
        (utc(2021, 9, 20), "compliant", 0),
        (utc(2021, 10, 1, 23), "compliant", 0),  # the due date itself (1 Sep + 30 days)
        (utc(2021, 10, 2, 0), "violation", 1),
        (utc(2021, 12, 1), "violation", 61),
        (None, "violation", None),
    ],
)
def test_exchange_on_time_late_or_missing(treaty: Agreement, signed: dt.datetime | None, status: str,
                                          value: int | None) -> None:
    log = Log()
    log.declare("US", [], as_of=dt.date(2021, 3, 1), signed_at=utc(2021, 3, 15))
    if signed is not None:
        log.declare("US", [], as_of=dt.date(2021, 9, 1), signed_at=signed)
    f = find(log.run(treaty), "data-exchange", "US")
    assert (f.status, f.value, f.unit) == (status, value, "day late")
    # the 1 March 2022 exchange is not due until 31 March: pending, and said so
    assert "The exchange as of 2022-03-01 is due by 2022-03-31." in f.explanation
    if signed is None:
        assert "none is recorded" in f.explanation
        assert f.evidence == ()
    else:
        assert [e.index for e in f.evidence] == [1]


def test_exchange_not_yet_due_and_first_record_counts(treaty: Agreement) -> None:
    ag = agreement(Path(treaty.file).parent, TREATY.replace("entry_into_force: 2021-01-01",
                                                            "entry_into_force: 2022-02-01"), "b.yaml")
    f = find(Log().run(ag), "data-exchange", "RU")
    assert (f.status, f.value) == ("compliant", 0)
    assert "No data exchange was yet due from RU" in f.explanation
    log = Log()
    log.declare("RU", [], as_of=dt.date(2021, 9, 1), signed_at=utc(2021, 11, 1))  # late
    log.declare("RU", [], as_of=dt.date(2021, 9, 1), signed_at=utc(2021, 11, 2))  # a correction, later still
    f = find(log.run(treaty), "data-exchange", "RU")
    assert (f.status, f.value) == ("violation", 31)
    assert [e.index for e in f.evidence] == [0]


def test_an_earlier_exchange_missed_or_late_is_still_a_breach(treaty: Agreement) -> None:
    """The latest exchange on time does not wipe out an earlier one never delivered, or delivered
    late; exchanges due before the log began are out of its record and not judged."""
    log = Log()
    log.declare("US", [], as_of=dt.date(2021, 3, 1), signed_at=utc(2021, 3, 15))
    log.declare("US", [], as_of=dt.date(2022, 3, 1), signed_at=utc(2022, 3, 20))
    f = find(log.run(treaty, dt.date(2022, 4, 15)), "data-exchange", "US")
    assert f.status == "violation"
    assert "the data as of 2021-09-01 (due by 2021-10-01) is not in the log" in f.explanation
    assert f.legal is not None
    log = Log()
    log.declare("US", [], as_of=dt.date(2021, 9, 1), signed_at=utc(2021, 10, 11))
    log.declare("US", [], as_of=dt.date(2022, 3, 1), signed_at=utc(2022, 3, 20))
    f = find(log.run(treaty, dt.date(2022, 4, 15)), "data-exchange", "US")
    assert f.status == "violation"
    assert "the data as of 2021-09-01 was signed 10 days late" in f.explanation
    assert [e.index for e in f.evidence] == [1, 0]
    # the log began in September 2021: the March 2021 exchange is not on its record
    f = find(log.run(treaty, dt.date(2021, 10, 5)), "data-exchange", "US")
    assert "Earlier" not in f.explanation


# ------------------------------------------------------------------ inspections


def test_inspection_quota_and_refusal(treaty: Agreement) -> None:
    log = Log()
    log.request("US", "visits", utc(2021, 12, 1))  # last year: not in this year's quota
    log.request("US", "visits", utc(2022, 1, 10))
    log.request("US", "other-obligation", utc(2022, 1, 11))
    log.request("US", "visits", utc(2022, 2, 10))
    fs = log.run(treaty)
    us = find(fs, "visits", "US")
    assert (us.status, us.value, us.bound) == ("compliant", 2, 2)
    assert "US may inspect RU up to 2 times per year" in us.explanation
    ru = find(fs, "visits", "RU")
    assert ru.status == "compliant"
    assert "none refused on the record" in ru.explanation
    log.request("US", "visits", utc(2022, 2, 20))
    assert find(log.run(treaty), "visits", "US").status == "violation"
    refusal = log.record("inspection-refusal", "RU", utc(2022, 2, 21), {"obligation": "visits"})
    ru = find(log.run(treaty), "visits", "RU")
    assert (ru.status, ru.value) == ("violation", 1)
    assert [e.index for e in ru.evidence] == [refusal.index]


# ------------------------------------------------------------------ conditions

CONDITIONS = """\
agreement: c
title: Conditions
legal_status: political-commitment
proposed_on: 2021-12-01
entry_into_force: 2022-01-01
parties: [{id: US, name: United States}, {id: RU, name: Russia}]
definitions:
  attributes:
    status: {type: enum, values: [operational, converted]}
  categories:
    GLCM: {}
    launcher: {attributes: [status]}
obligations:
  - id: cap
    kind: limit
    clause: "Art. 1"
    select: 'category == "launcher"'
    max: 2
    interpretations:
      US: {reading: "converted ones do not count", select: 'category == "launcher" and status != "converted"'}
      RU: {reading: "all count"}
  - id: no-glcm
    kind: ban
    clause: "Art. 2"
    select: 'category == "GLCM"'
    conditions: [{reciprocal: cap}]
  - id: from-june
    kind: ban
    clause: "Art. 3"
    select: 'category == "GLCM"'
    conditions: [{after: 2022-06-01}]
  - id: until-february
    kind: ban
    clause: "Art. 4"
    select: 'category == "GLCM"'
    conditions: [{before: 2022-02-01}]
"""


@pytest.fixture
def conditional(tmp_path: Path) -> Agreement:
    return agreement(tmp_path, CONDITIONS, "c.yaml")


def test_reciprocity_suspends_for_the_side_whose_counterpart_violates(conditional: Agreement) -> None:
    """RU holds GLCMs, but is released from the ban only if the US breaks `cap`; and whether the US
    breaks it is judged by RU's own reading (3 launchers, one converted: 3 > 2 for RU, 2 for the US)."""
    log = Log()
    log.declare("US", [item("launcher", 2, status="operational"), item("launcher", 1, status="converted"),
                       item("GLCM", 1)])
    log.declare("RU", [item("launcher", 1, status="operational"), item("GLCM", 5)])
    fs = log.run(conditional)
    assert find(fs, "cap", "US", "US").status == "compliant"
    assert find(fs, "cap", "US", "RU").status == "violation"
    ru = find(fs, "no-glcm", "RU")
    assert ru.status == "not_applicable"
    assert "while US complies with cap, and US is in violation of it" in ru.explanation
    assert "(Unconditioned: violation" in ru.explanation
    assert ru.legal is None
    us = find(fs, "no-glcm", "US")  # RU complies with cap under every reading: the US stays bound
    assert (us.status, us.value) == ("violation", 1)


def test_reciprocity_holds_while_the_other_side_complies(conditional: Agreement) -> None:
    log = Log()
    log.declare("US", [item("launcher", 2)])
    log.declare("RU", [item("GLCM", 5)])
    fs = log.run(conditional)
    assert find(fs, "no-glcm", "RU").status == "violation"
    assert find(fs, "no-glcm", "US").status == "compliant"


@pytest.mark.parametrize(("at", "from_june", "until_february"), [
    (dt.date(2022, 1, 15), "not_applicable", "violation"),
    (dt.date(2022, 2, 1), "not_applicable", "not_applicable"),
    (dt.date(2022, 6, 1), "violation", "not_applicable"),
])
def test_date_windows(conditional: Agreement, at: dt.date, from_june: str, until_february: str) -> None:
    log = Log()
    log.declare("RU", [item("GLCM", 1)], as_of=dt.date(2022, 1, 1))
    fs = log.run(conditional, at)
    assert find(fs, "from-june", "RU").status == from_june
    assert find(fs, "until-february", "RU").status == until_february
    if from_june == "not_applicable":
        assert "applies only from 2022-06-01" in find(fs, "from-june", "RU").explanation
    if until_february == "not_applicable":
        assert "applied only until 2022-02-01" in find(fs, "until-february", "RU").explanation


# ------------------------------------------------------------------ stages


def test_proposal_is_not_applicable_unless_hypothetical() -> None:
    ag = load_agreement(SCENARIO / "agreements/inf-range-ban.yaml")
    log = Log()
    log.declare("RU", [item("GLCM", 4, site="kamyshlov", system="9M729", range_km=480)])
    fs = log.run(ag)
    assert {f.status for f in fs} == {"not_applicable"}
    assert all("is a proposal by RU and has not been agreed" in f.explanation for f in fs)
    assert all("--hypothetical" in f.explanation for f in fs)
    assert not any(f.hypothetical for f in fs)
    fs = log.run(ag, hypothetical=True)
    assert all(f.hypothetical for f in fs)
    assert find(fs, "no-intermediate-range-ground-missiles", "RU", "US").status == "violation"
    assert find(fs, "no-intermediate-range-ground-missiles", "RU", "RU").status == "compliant"
    assert find(fs, "no-intermediate-range-ground-missiles", "US", "US").status == "unverified"


def test_signed_expired_and_in_force(tmp_path: Path) -> None:
    ag = agreement(tmp_path, TREATY)
    log = Log()
    log.declare("US", [item("MK 41 launcher", 1, site="deveselu")], as_of=dt.date(2020, 7, 1))
    f = find(log.run(ag, dt.date(2020, 7, 1)), "not-tomahawk-capable", "US")
    assert f.status == "not_applicable"
    assert "was signed on 2020-06-01 but has not entered into force" in f.explanation
    f = find(log.run(ag, dt.date(2020, 7, 1), hypothetical=True), "not-tomahawk-capable", "US")
    assert (f.status, f.hypothetical) == ("violation", True)
    expiring = agreement(tmp_path, TREATY.replace(
        "entry_into_force: 2021-01-01", "entry_into_force: 2021-01-01\nexpires: 2022-01-01"), "e.yaml")
    for hypothetical in (False, True):
        f = find(log.run(expiring, hypothetical=hypothetical), "not-tomahawk-capable", "US")
        assert f.status == "not_applicable"
        assert "expired on 2022-01-01" in f.explanation
    f = find(log.run(ag, hypothetical=True), "not-tomahawk-capable", "US")  # in force: not hypothetical
    assert (f.status, f.hypothetical) == ("violation", False)


def test_an_expired_agreement_is_not_hypothetical(tmp_path: Path) -> None:
    expiring = agreement(tmp_path, TREATY.replace("entry_into_force: 2021-01-01",
                                                  "entry_into_force: 2021-01-01\nexpires: 2022-01-01"))
    log = Log()
    log.declare("US", [item("MK 41 launcher", 1, site="deveselu")])
    f = find(log.run(expiring, hypothetical=True), "not-tomahawk-capable", "US")
    assert f.status == "not_applicable"
    assert f.hypothetical is False
    assert "--hypothetical" not in f.explanation


def test_every_finding_is_complete(tmp_path: Path) -> None:
    """Whatever the rule, a finding names its obligation, party, clause, status and explanation, and
    serialises to JSON with the fields a reader needs."""
    ag = agreement(tmp_path, TREATY)
    log = Log()
    log.declare("US", [item("MK 41 launcher", 1, site="deveselu")], as_of=dt.date(2021, 9, 1))
    log.notify("RU", "movement", utc(2022, 2, 1), NOON)
    for f in log.run(ag):
        assert f.status in STATUSES
        assert f.explanation
        assert f.clause.startswith("Art. ")
        j = f.to_json()
        assert set(j) >= {"obligation", "party", "interpretation", "status", "value", "bound", "evidence",
                          "explanation", "clause", "sites", "items", "legal", "hypothetical", "at"}
        assert j["at"] == AT.isoformat()
        for e in j["evidence"]:
            assert set(e) >= {"index", "kind", "author", "signed_at", "role", "inclusion_proof", "leaf_hash"}


# ------------------------------------------------------------- capability by zone; reciprocal inspections

ZONED = TREATY.replace("    sites: [deveselu]\n", "    zone: box\n", 1).replace(
    "sites:\n", "zones:\n  box: {polygon: [[20, 40], [30, 40], [30, 50], [20, 50], [20, 40]]}\nsites:\n", 1)


@pytest.mark.parametrize(("site", "status"), [("deveselu", "violation"), ("kapyar", "compliant")])
def test_capability_over_a_zone(tmp_path: Path, site: str, status: str) -> None:
    ag = agreement(tmp_path, ZONED)
    log = Log()
    log.declare("US", [item("MK 41 launcher", 2, site=site)])
    f = find(log.run(ag), "not-tomahawk-capable", "US")
    assert f.status == status
    assert "zone box" in f.explanation


def test_capability_over_a_zone_with_an_unlocated_site_is_unverified(tmp_path: Path) -> None:
    ag = agreement(tmp_path, ZONED)
    log = Log()
    log.declare("US", [item("MK 41 launcher", 2, site="somewhere")])
    assert find(log.run(ag), "not-tomahawk-capable", "US").status == "unverified"


def test_reciprocity_on_an_inspection_regime() -> None:
    """The Aegis Ashore proposal: the US keeps its side while RU receives the US visits; a recorded
    RU refusal releases the US (evaluated as if in force)."""
    ag = load_agreement(SCENARIO / "agreements/aegis-ashore-transparency.yaml")
    log = Log()
    log.declare("US", [item("MK 41 launcher", 3, site="deveselu"), item("Tomahawk", 1, site="deveselu")])
    fs = log.run(ag, hypothetical=True)
    assert find(fs, "no-tomahawk-at-aegis-ashore", "US").status == "violation"
    assert find(fs, "aegis-launchers-not-tomahawk-capable", "US").status == "violation"
    log.request("US", "us-visits-to-russian-bases", utc(2022, 2, 1))
    log.record("inspection-refusal", "RU", utc(2022, 2, 2), {"obligation": "us-visits-to-russian-bases"})
    fs = log.run(ag, hypothetical=True)
    assert find(fs, "us-visits-to-russian-bases", "RU").status == "violation"
    for oid in ("no-tomahawk-at-aegis-ashore", "aegis-launchers-not-tomahawk-capable"):
        f = find(fs, oid, "US")
        assert f.status == "not_applicable"
        assert "while RU complies with us-visits-to-russian-bases" in f.explanation
    # the US is released from receiving Russian visits too; RU, as inspector, stays within its quota
    assert find(fs, "russian-visits-to-aegis-ashore", "US").status == "not_applicable"
    assert find(fs, "russian-visits-to-aegis-ashore", "RU").status == "compliant"
