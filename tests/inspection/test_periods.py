"""Quota periods as treaties count them, and regimes used only within their window.

The INF Treaty's short-notice inspections ran by treaty year (20 a year, counted from entry into
force on 1 June 1988), not by calendar year: the 21st request of the first treaty year must be
refused even after 1 January 1989. A regime whose window has closed (`before:`) or not opened
(`after:`) takes no request.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detente.agreement.loader import load_agreement
from detente.agreement.model import Agreement
from detente.errors import AgreementError
from detente.inspection.procedure import PERIOD_MONTHS, Procedure, period_bounds
from detente.model.records import LoggedRecord, format_time

AGREEMENT = """
agreement: inf-like
title: INF-like short-notice inspections
legal_status: ratified-treaty
signed: 1987-12-08
entry_into_force: 1988-06-01
parties: [{{id: US, name: U}}, {{id: SU, name: S}}]
definitions:
  categories:
    GLBM: {{}}
sites:
  - {{id: votkinsk, name: Votkinsk, owner: SU, host: SU, kind: plant, location: [54.0, 57.05]}}
  - {{id: magna, name: Magna, owner: US, host: US, kind: plant, location: [-112.1, 40.7]}}
obligations:
  - id: short-notice
    kind: inspection
    clause: "Art. XI.5"
    inspecting: US
    inspected: SU
    quota: {{count: 20, per: year{start}}}
    notice_hours: 16
    selection: challenge
    sites: [votkinsk]
    conditions: [{{after: 1988-06-01, before: 1991-06-01}}]
"""


def agreement(tmp_path: Path, start: str = ", from: entry-into-force") -> Agreement:
    p = tmp_path / "inf.yaml"
    p.write_text(AGREEMENT.format(start=start))
    return load_agreement(p)


class Requests:
    def __init__(self, ag: Agreement) -> None:
        self.ag = ag
        self.proc = Procedure({ag.id: ag}, None)
        self.n = 0

    def request(self, day: dt.date) -> str | None:
        """Request an inspection on `day`; the refusal code, or None if it went in."""
        self.n += 1
        t = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC)
        rec = LoggedRecord(self.n, "inspection-request", "US", self.n, t, {
            "inspection": f"SN-{self.n}", "agreement": self.ag.id, "obligation": "short-notice",
            "method": "challenge", "site": "votkinsk", "arrival": format_time(t + dt.timedelta(hours=16))})
        refused = self.proc.judge(rec)
        if refused is None:
            self.proc.observe(rec)
            return None
        return refused.code


def test_the_21st_request_of_a_treaty_year_is_refused_across_new_year(tmp_path: Path) -> None:
    r = Requests(agreement(tmp_path))
    for k in range(20):
        assert r.request(dt.date(1988, 6, 1) + dt.timedelta(days=10 * k)) is None
    assert r.request(dt.date(1989, 1, 10)) == "quota"  # a calendar count would have restarted
    assert r.request(dt.date(1989, 5, 31)) == "quota"
    assert r.request(dt.date(1989, 6, 1)) is None  # the second treaty year


def test_calendar_periods_restart_on_1_january(tmp_path: Path) -> None:
    r = Requests(agreement(tmp_path, start=""))
    for k in range(20):
        assert r.request(dt.date(1988, 6, 1) + dt.timedelta(days=10 * k)) is None
    assert r.request(dt.date(1989, 1, 10)) is None


def test_a_request_outside_the_regimes_window_is_refused(tmp_path: Path) -> None:
    r = Requests(agreement(tmp_path))
    assert r.request(dt.date(1991, 6, 1)) == "window"
    assert r.request(dt.date(1988, 5, 31)) == "window"
    assert r.request(dt.date(1991, 5, 31)) is None


def test_periods_from_entry_into_force_need_the_date(tmp_path: Path) -> None:
    p = tmp_path / "inf.yaml"
    text = AGREEMENT.format(start=", from: entry-into-force")
    p.write_text(text.replace("entry_into_force: 1988-06-01\n", ""))
    with pytest.raises(AgreementError, match="entry_into_force"):
        load_agreement(p)


def test_periods_from_a_named_date(tmp_path: Path) -> None:
    ag = agreement(tmp_path, start=", from: 1988-07-01")
    (ob,) = ag.obligations
    assert ob.quota_anchor == dt.date(1988, 7, 1)  # type: ignore[attr-defined]


dates = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31))


@given(at=dates, anchor=st.none() | dates, per=st.sampled_from(sorted(PERIOD_MONTHS)))
def test_every_day_falls_in_exactly_one_period(at: dt.date, anchor: dt.date | None, per: str) -> None:
    start, end = period_bounds(at, per, anchor)
    assert start <= at <= end
    # the periods tile time: the day after the end starts the next one, the day before the start
    # ends the previous one
    assert period_bounds(end + dt.timedelta(days=1), per, anchor)[0] == end + dt.timedelta(days=1)
    assert period_bounds(start - dt.timedelta(days=1), per, anchor)[1] == start - dt.timedelta(days=1)
    if anchor is None:
        assert start.day == 1
        assert (start.month - 1) % PERIOD_MONTHS[per] == 0
    else:
        assert period_bounds(anchor, per, anchor)[0] == anchor
        assert 27 <= (end - start).days + 1 <= 366
