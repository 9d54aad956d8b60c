"""State: what the log says each party holds, notified and found, at a time.

The log is the only source. Records were verified at the door; here we read them back, in log
order, and keep what the evaluator needs, each item tagged with the leaf it came from so every
finding can cite it.

Two clocks, kept apart on purpose (a bitemporal view):
  - *valid time*: a declaration says what a party held `as_of` a date; state at `t` uses each
    party's latest declaration with `as_of <= t` (a later record with the same `as_of` corrects
    an earlier one, and the correction is itself on the record);
  - *record time*: `signed_at`, when the party said it. `known_at` cuts the log there, which answers
    "what could anyone have known on that day"; lateness of exchanges and notifications is
    measured against it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from detente.envelope.canonical import parse_json
from detente.envelope.dsse import Envelope, parse_envelope
from detente.errors import ProofError
from detente.log.commitment import Commitment
from detente.log.store import LogStore
from detente.model.records import parse_time

if TYPE_CHECKING:
    from detente.inspection.procedure import Case, Procedure


@dataclass(frozen=True)
class Record:
    """A logged record, reduced to what projections need."""

    index: int
    kind: str
    author: str
    seq: int
    signed_at: dt.datetime
    body: Mapping[str, Any]
    envelope: Envelope | None = None  # kept for inspection reports (a countersignature covers it)


@dataclass(frozen=True)
class Declaration:
    record: Record
    as_of: dt.date
    holdings: tuple[Mapping[str, Any], ...]
    sites: Mapping[str, Mapping[str, Any]]
    aggregates: Mapping[str, Any]
    #: The salted Merkle commitment the record carries instead of its holdings, if it does.
    commitment: Commitment | None = None
    #: Committed, and the full records were not disclosed to this workspace: aggregates only.
    sealed: bool = False

    @property
    def party(self) -> str:
        return self.record.author


@dataclass(frozen=True)
class Notification:
    record: Record
    event: str
    event_time: dt.datetime

    @property
    def party(self) -> str:
        return self.record.author

    @property
    def notice_time(self) -> dt.datetime:
        return self.record.signed_at


@dataclass(frozen=True)
class InspectionReport:
    record: Record
    site: str
    inspected: str
    configurations: tuple[Mapping[str, Any], ...]  # verified launcher configurations


@dataclass
class History:
    """Every record the projections use, in log order (the whole log, or cut at `known_at`)."""

    records: list[Record] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    requests: list[Record] = field(default_factory=list)
    reports: list[InspectionReport] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)
    #: Inspections as the procedure (detente.inspection) reads them, if it was given agreements.
    inspections: list[Case] = field(default_factory=list)

    def at(self, t: dt.date) -> State:
        latest: dict[str, Declaration] = {}
        for d in self.declarations:  # log order: a later record for the same as_of corrects
            if d.as_of <= t and (d.party not in latest or d.as_of >= latest[d.party].as_of):
                latest[d.party] = d
        end = _end_of(t)
        return State(
            at=t,
            history=self,
            declarations=latest,
            notifications=[n for n in self.notifications if n.event_time <= end],
            reports=[r for r in self.reports if r.record.signed_at <= end],
            requests=[r for r in self.requests if r.signed_at <= end],
            inspections=[c for c in self.inspections if c.request.signed_at <= end],
        )


@dataclass
class State:
    at: dt.date
    history: History
    declarations: dict[str, Declaration]
    notifications: list[Notification]
    reports: list[InspectionReport]
    requests: list[Record]
    inspections: list[Case] = field(default_factory=list)

    def site_locations(self) -> dict[str, tuple[str, str, float, float]]:
        """site id -> (kind, host, lon, lat) from the current declarations. A party locates only
        the sites where it declares holdings: one party's declaration cannot move the other's
        sites into or out of a zone."""
        out: dict[str, tuple[str, str, float, float]] = {}
        for d in self.declarations.values():
            held = {str(h.get("site")) for h in d.holdings}
            for sid, s in d.sites.items():
                if sid not in held:
                    continue
                loc = s.get("location")
                if isinstance(loc, list) and len(loc) == 2:
                    out[sid] = (str(s.get("kind", "")), str(s.get("host", "")), float(loc[0]), float(loc[1]))
        return out


def _end_of(t: dt.date) -> dt.datetime:
    return dt.datetime(t.year, t.month, t.day, 23, 59, 59, tzinfo=dt.UTC)


def _date(v: Any) -> dt.date:
    if not isinstance(v, str):
        raise ValueError("as_of must be a date string YYYY-MM-DD")
    return dt.date.fromisoformat(v)


def _project(rec: Record, h: History, disclosed: Mapping[bytes, list[dict[str, Any]]]) -> None:
    b = rec.body
    if rec.kind == "declaration":
        holdings = b.get("holdings", [])
        sites = b.get("sites", [])
        commitment, sealed = None, False
        if "commitment" in b:
            try:
                commitment = Commitment.from_json(b["commitment"])
            except ProofError as exc:
                raise ValueError(f"commitment: {exc.message}") from exc
            if "holdings" in b:
                raise ValueError("a committed declaration carries its root, not its holdings")
            opened = disclosed.get(commitment.root)
            holdings, sealed = (list(opened), False) if opened is not None else ([], True)
        if not isinstance(holdings, list) or not isinstance(sites, list):
            raise ValueError("holdings and sites must be lists")
        items = []
        for x in holdings:
            if not isinstance(x, dict) or not isinstance(x.get("count", 1), int):
                raise ValueError("each holding is an object with an integer count")
            items.append({**x, "party": rec.author})
        h.declarations.append(
            Declaration(
                rec,
                _date(b.get("as_of")),
                tuple(items),
                {str(s["id"]): s for s in sites if isinstance(s, dict) and "id" in s},
                b.get("aggregates") or {},
                commitment,
                sealed,
            )
        )
    elif rec.kind == "notification":
        h.notifications.append(Notification(rec, str(b.get("event")), parse_time(b.get("event_time", ""))))
    elif rec.kind == "inspection-request":
        h.requests.append(rec)
    elif rec.kind == "inspection-report":
        configs = b.get("configurations", [])
        h.reports.append(
            InspectionReport(
                rec,
                str(b.get("site")),
                str(b.get("inspected", "")),
                tuple(c for c in configs if isinstance(c, dict)),
            )
        )


def records_from_leaves(leaves: Iterable[tuple[int, bytes]]) -> Iterable[Record]:
    for index, leaf in leaves:
        env = parse_envelope(leaf)
        p = parse_json(env.payload)
        yield Record(index, p["kind"], p["author"], p["seq"], parse_time(p["signed_at"]), p["body"],
                     env if p["kind"] == "inspection-report" else None)


def history(
    records: Iterable[Record],
    known_at: dt.datetime | None = None,
    *,
    disclosed: Mapping[bytes, list[dict[str, Any]]] | None = None,
    procedure: Procedure | None = None,
) -> History:
    """Project records (in log order). A record whose body the projection cannot read is kept
    aside in `malformed` with the reason: it is on the record, signed, and worth a finding.

    `disclosed`: full declarations received from their authors, by commitment root (the root is
    rebuilt from the records and salts, so a match is a verified disclosure). `procedure`: fold
    inspection steps into it and keep its inspections.
    """
    from detente.inspection.procedure import STEP_KINDS, Step

    h = History()
    for rec in records:
        if known_at is not None and rec.signed_at > known_at:
            continue
        h.records.append(rec)
        try:
            _project(rec, h, disclosed or {})
        except (ValueError, TypeError, KeyError) as exc:
            h.malformed.append((rec.index, f"{rec.kind} by {rec.author}: {exc}"))
        if procedure is not None and (rec.kind == "declaration" or rec.kind in STEP_KINDS):
            procedure.observe(Step(rec.index, rec.kind, rec.author, rec.signed_at, rec.body, rec.envelope))
    if procedure is not None:
        h.inspections = list(procedure.cases.values())
    return h


def load_history(
    store: LogStore,
    size: int,
    known_at: dt.datetime | None = None,
    *,
    disclosed: Mapping[bytes, list[dict[str, Any]]] | None = None,
    procedure: Procedure | None = None,
) -> History:
    """The history of the first `size` entries (bound it by a checkpoint so evidence matches)."""
    leaves = ((e.index, e.leaf) for e in store.iter_entries() if e.index < size)
    return history(records_from_leaves(leaves), known_at, disclosed=disclosed, procedure=procedure)
