"""Small builders for evaluator tests: agreements from inline YAML, records and declarations made by
hand (no log, no signatures), and a finder that insists on exactly one match."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from detente.agreement.loader import load_agreement
from detente.agreement.model import Agreement
from detente.compliance.evaluate import evaluate
from detente.compliance.findings import Finding
from detente.compliance.projection import Declaration, InspectionReport, Notification, Projection
from detente.model.records import LoggedRecord

AT = dt.date(2022, 3, 1)
NOON = dt.datetime(2022, 3, 1, 12, tzinfo=dt.UTC)
SCENARIO = Path(__file__).parents[2] / "src/detente/scenarios/2022"


def utc(y: int, mo: int, d: int, h: int = 12) -> dt.datetime:
    return dt.datetime(y, mo, d, h, tzinfo=dt.UTC)


def agreement(tmp_path: Path, text: str, name: str = "a.yaml") -> Agreement:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_agreement(p)


class Log:
    """Hands out log indices in order, as a log would, and builds the projected history."""

    def __init__(self) -> None:
        self.history = Projection()
        self.seq: dict[str, int] = {}

    def record(self, kind: str, author: str, signed_at: dt.datetime = NOON,
               body: Mapping[str, Any] | None = None) -> LoggedRecord:
        self.seq[author] = self.seq.get(author, 0) + 1
        rec = LoggedRecord(len(self.history.records), kind, author, self.seq[author], signed_at,
                           dict(body or {}))
        self.history.records.append(rec)
        return rec

    def declare(self, party: str, holdings: Iterable[Mapping[str, Any]] | None, as_of: dt.date = AT,
                signed_at: dt.datetime = NOON, sites: Mapping[str, Mapping[str, Any]] | None = None,
                aggregates: Mapping[str, Any] | None = None, under: Iterable[str] = ()) -> Declaration:
        """`holdings` None: a declaration of aggregates only; [] declares that it holds nothing;
        `under`: the agreements it is made under (none: unscoped)."""
        rec = self.record("declaration", party, signed_at)
        d = Declaration(rec, as_of, tuple({**h, "party": party} for h in holdings or ()),
                        dict(sites or {}), dict(aggregates or {}), itemised=holdings is not None,
                        scope=frozenset(under))
        self.history.declarations.append(d)
        return d

    def notify(self, party: str, event: str, event_time: dt.datetime, signed_at: dt.datetime) -> Notification:
        n = Notification(self.record("notification", party, signed_at), event, event_time)
        self.history.notifications.append(n)
        return n

    def report(self, author: str, site: str, inspected: str, configurations: list[dict[str, Any]],
               signed_at: dt.datetime = NOON) -> InspectionReport:
        rep = InspectionReport(self.record("inspection-report", author, signed_at, {"site": site}), site,
                               inspected, tuple(configurations))
        self.history.reports.append(rep)
        return rep

    def request(self, author: str, obligation: str, signed_at: dt.datetime = NOON) -> LoggedRecord:
        rec = self.record("inspection-request", author, signed_at, {"obligation": obligation})
        self.history.requests.append(rec)
        return rec

    def run(self, ag: Agreement, at: dt.date = AT, *, hypothetical: bool = False) -> list[Finding]:
        return evaluate(ag, self.history.at(at), hypothetical=hypothetical)


def item(category: str, count: int = 1, site: str = "s", **attributes: Any) -> dict[str, Any]:
    return {"site": site, "category": category, "count": count, "attributes": attributes}


def find(findings: list[Finding], obligation: str, party: str, reading: str | bool | None = False) -> Finding:
    """The one finding for (obligation, party[, reading]); `reading=False` means "whatever reading"."""
    hits = [f for f in findings if f.obligation == obligation and f.party == party
            and (reading is False or f.interpretation == reading)]
    assert len(hits) == 1, [(f.obligation, f.party, f.interpretation) for f in hits]
    return hits[0]
