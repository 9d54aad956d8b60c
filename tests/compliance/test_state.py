"""The projection of the log into state: valid time (as_of) and record time (signed_at) kept apart,
corrections on the record, unreadable bodies set aside rather than dropped or fatal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from compliance.helpers import utc
from detente.compliance.projection import Projection
from detente.envelope.dsse import Envelope
from detente.envelope.record import read_records
from detente.model.records import LoggedRecord


def rec(index: int, kind: str, author: str, signed_at: dt.datetime, body: dict[str, Any]) -> LoggedRecord:
    return LoggedRecord(index, kind, author, index + 1, signed_at, body)


def decl(index: int, author: str, as_of: str, signed_at: dt.datetime, n: int) -> LoggedRecord:
    return rec(index, "declaration", author, signed_at,
               {"as_of": as_of, "holdings": [{"site": "s", "category": "ICBM", "count": n}],
                "sites": [{"id": "s", "location": [1.0, 2.0], "kind": "base", "host": author}]})


RECORDS = [
    decl(0, "US", "2021-09-01", utc(2021, 9, 20), 10),
    decl(1, "US", "2022-03-01", utc(2022, 3, 20), 20),
    decl(2, "US", "2022-03-01", utc(2022, 4, 2), 21),  # a correction of the 1 March data, signed later
    decl(3, "US", "2021-03-01", utc(2022, 4, 3), 5),  # a late backfill of an older date
    rec(4, "notification", "RU", utc(2022, 2, 20),
        {"event": "movement", "event_time": "2022-02-01T00:00:00Z"}),
    rec(5, "inspection-report", "RU", utc(2022, 3, 2),
        {"site": "s", "inspected": "US", "configurations": [{"category": "X", "can_launch": []}, "junk"]}),
    rec(6, "inspection-request", "US", utc(2022, 3, 1, 23), {"obligation": "visits"}),
    rec(7, "declaration", "RU", utc(2022, 3, 5), {"as_of": 20220301, "holdings": []}),
    rec(8, "declaration", "RU", utc(2022, 3, 5), {"as_of": "2022-03-01", "holdings": {"not": "a list"}}),
    rec(9, "declaration", "RU", utc(2022, 3, 5), {"as_of": "2022-03-01", "holdings": [{"count": "many"}]}),
    rec(10, "notification", "RU", utc(2022, 3, 5), {"event": "movement", "event_time": "1 March"}),
    rec(11, "statement", "RU", utc(2022, 3, 5), {"text": "not projected"}),
]


def count(state: Any, party: str) -> int:
    return sum(h["count"] for h in state.declarations[party].holdings)


def test_valid_time_latest_as_of_and_corrections() -> None:
    h = Projection().extend(RECORDS)
    assert count(h.at(dt.date(2022, 2, 28)), "US") == 10
    at = h.at(dt.date(2022, 3, 1))
    assert count(at, "US") == 21  # the correction prevails over the first 1 March record
    assert at.declarations["US"].record.index == 2
    assert at.declarations["US"].holdings[0]["party"] == "US"  # items carry their declarant
    assert count(h.at(dt.date(2021, 6, 1)), "US") == 5  # the backfill answers for its own date
    assert "US" not in h.at(dt.date(2021, 1, 1)).declarations


def test_record_time_cut_by_known_at() -> None:
    h = Projection(known_at=utc(2022, 3, 31)).extend(RECORDS)
    assert count(h.at(dt.date(2022, 3, 1)), "US") == 20  # the correction was not yet signed
    assert [r.index for r in h.records] == [0, 1, 4, 5, 6, 7, 8, 9, 10, 11]
    h = Projection(known_at=utc(2021, 12, 31)).extend(RECORDS)
    assert count(h.at(dt.date(2022, 3, 1)), "US") == 10


def test_events_reports_and_requests_are_cut_at_the_end_of_the_day() -> None:
    h = Projection().extend(RECORDS)
    state = h.at(dt.date(2022, 3, 1))
    assert [n.record.index for n in state.notifications] == [4]
    assert state.notifications[0].notice_time == utc(2022, 2, 20)
    assert state.reports == []  # signed 2 March
    assert [r.index for r in state.requests] == [6]  # 23:00 on the day counts
    later = h.at(dt.date(2022, 3, 2))
    (report,) = later.reports
    assert (report.site, report.inspected) == ("s", "US")
    assert report.configurations == ({"category": "X", "can_launch": []},)  # the junk entry dropped


def test_unreadable_bodies_are_set_aside_with_the_reason() -> None:
    h = Projection().extend(RECORDS)
    reasons = dict(h.malformed)
    assert sorted(reasons) == [7, 8, 9, 10]
    assert "as_of must be a date string" in reasons[7]
    assert "holdings and sites must be lists" in reasons[8]
    assert "integer count" in reasons[9]
    assert "RFC 3339" in reasons[10]
    assert all(r.startswith(("declaration by RU", "notification by RU")) for r in reasons.values())
    assert "RU" not in h.at(dt.date(2022, 3, 1)).declarations


def test_site_locations_from_declarations() -> None:
    state = Projection().extend(RECORDS).at(dt.date(2022, 3, 1))
    assert state.site_locations() == {"s": ("base", "US", 1.0, 2.0)}


def test_records_from_signed_leaves(record: Callable[..., Envelope]) -> None:
    envs = [record("declaration", "US", 1, {"as_of": "2022-03-01", "holdings": []},
                   signed_at=utc(2022, 3, 1)),
            record("notification", "RU", 1, {"event": "movement", "event_time": "2022-02-27T00:00:00Z"})]
    recs = list(read_records((i, e.canonical()) for i, e in enumerate(envs)))
    assert [(r.index, r.kind, r.author, r.seq) for r in recs] == [(0, "declaration", "US", 1),
                                                                  (1, "notification", "RU", 1)]
    assert recs[0].signed_at == utc(2022, 3, 1)
    h = Projection().extend(recs)
    assert h.at(dt.date(2022, 3, 1)).declarations["US"].as_of == dt.date(2022, 3, 1)
    assert h.notifications[0].event_time == dt.datetime(2022, 2, 27, tzinfo=dt.UTC)
