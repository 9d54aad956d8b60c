"""The projection: the log read once, in order, into everything later views need.

One pass over the logged records (`model.records.LoggedRecord`, read by the one parser,
`envelope.record.read_record`) yields each party's declarations and notifications, the
inspection procedure's state (`inspection.procedure.Procedure`: every inspection, and the steps
it holds void), and the records whose bodies cannot be read. The evaluator, each party's desk
and the log's content rule all fold the log through this one class, so what the log accepted,
what a desk shows and what a finding says can never disagree.

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
from dataclasses import dataclass, field, replace
from typing import Any

from detente.agreement.model import Agreement
from detente.commitment import Commitment
from detente.envelope.record import read_records
from detente.errors import ProofError
from detente.inspection.procedure import STEP_KINDS, Case, DeclaredCommitment, Procedure
from detente.log.store import LogStore
from detente.model.parties import Registry
from detente.model.records import LoggedRecord, parse_time

__all__ = [
    "PROCEDURE_KINDS",
    "Declaration",
    "InspectionReport",
    "Notification",
    "Projection",
    "State",
    "project_log",
]

#: The record kinds the inspection procedure reads (a log rule needs to fold only these).
PROCEDURE_KINDS = frozenset({"declaration", *STEP_KINDS})


@dataclass(frozen=True)
class Declaration:
    record: LoggedRecord
    as_of: dt.date
    holdings: tuple[Mapping[str, Any], ...]
    sites: Mapping[str, Mapping[str, Any]]
    aggregates: Mapping[str, Any]
    #: The salted Merkle commitment the record carries instead of its holdings, if it does.
    commitment: Commitment | None = None
    #: Committed, and the full records were not disclosed to this workspace: aggregates only.
    sealed: bool = False
    #: The holdings are given item by item (a `holdings` list, perhaps empty: a party that holds
    #: nothing declares zero; or a commitment this workspace can open). False: aggregates only.
    itemised: bool = True
    #: The agreements the declaration is made under (`agreements` in the body); empty: unscoped.
    scope: frozenset[str] = frozenset()

    def concerns(self, ag: Agreement) -> bool:
        """Is this a declaration under `ag`? Scoped: if it names `ag`. Unscoped: if it declares
        anything `ag` counts, or nothing at all (zero), or cannot be read item by item; an
        unscoped declaration of only categories `ag` does not define is kept apart from it, so a
        declaration made for another purpose never replaces what a party declared under `ag`."""
        if self.scope:
            return ag.id in self.scope
        if not self.itemised or not self.holdings:
            return True
        return any(h.get("category") in ag.categories for h in self.holdings)

    @property
    def party(self) -> str:
        return self.record.author


@dataclass(frozen=True)
class Notification:
    record: LoggedRecord
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
    record: LoggedRecord
    site: str
    inspected: str
    configurations: tuple[Mapping[str, Any], ...]  # verified launcher configurations


@dataclass
class Projection:
    """Every record the views use, in log order (the whole log, or cut at `known_at`).

    `agreements`: the ones whose inspection procedure to follow (a step under any other is void);
    `registry`: the keys a countersignature is checked against; `disclosed`: full declarations
    received from their authors, by commitment root (the root is rebuilt from the records and
    salts, so a match is a verified disclosure).
    """

    agreements: Mapping[str, Agreement] = field(default_factory=dict)
    registry: Registry | None = None
    known_at: dt.datetime | None = None
    disclosed: Mapping[bytes, list[dict[str, Any]]] = field(default_factory=dict)
    records: list[LoggedRecord] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    requests: list[LoggedRecord] = field(default_factory=list)
    reports: list[InspectionReport] = field(default_factory=list)
    #: Records whose body cannot be read, with the reason: signed and on the record all the same.
    malformed: list[tuple[int, str]] = field(default_factory=list)
    procedure: Procedure = field(init=False)

    def __post_init__(self) -> None:
        self.procedure = Procedure(self.agreements, self.registry)

    @property
    def cases(self) -> dict[str, Case]:
        """Every inspection in the log, by id."""
        return self.procedure.cases

    @property
    def inspections(self) -> list[Case]:
        return list(self.procedure.cases.values())

    @property
    def void(self) -> dict[int, str]:
        """Inspection steps in the log the procedure does not accept (written without its rule)."""
        return self.procedure.void

    def add(self, rec: LoggedRecord) -> None:
        """Fold the next logged record in (log order)."""
        if self.known_at is not None and rec.signed_at > self.known_at:
            return
        self.records.append(rec)
        try:
            _fold(rec, self)
        except (ValueError, TypeError, KeyError) as exc:
            self.malformed.append((rec.index, f"{rec.kind} by {rec.author}: {exc}"))
        if rec.kind in STEP_KINDS:
            self.procedure.observe(rec)

    def extend(self, records: Iterable[LoggedRecord]) -> Projection:
        for rec in records:
            self.add(rec)
        return self

    def at(self, t: dt.date) -> State:
        end = _end_of(t)
        valid = [d for d in self.declarations if d.as_of <= t]
        return State(
            at=t,
            history=self,
            declarations=_latest(valid),
            valid=valid,
            notifications=[n for n in self.notifications if n.event_time <= end],
            reports=[r for r in self.reports if r.record.signed_at <= end],
            requests=[r for r in self.requests if r.signed_at <= end],
            inspections=[c for c in self.inspections if c.request.signed_at <= end],
        )


def _latest(declarations: Iterable[Declaration]) -> dict[str, Declaration]:
    """Each party's declaration in force: the latest `as_of`; for the same `as_of`, the later
    record (a correction, itself on the record)."""
    latest: dict[str, Declaration] = {}
    for d in declarations:  # log order
        if d.party not in latest or d.as_of >= latest[d.party].as_of:
            latest[d.party] = d
    return latest


@dataclass
class State:
    at: dt.date
    history: Projection
    #: Each party's declaration in force (of all its declarations; `for_agreement` narrows).
    declarations: dict[str, Declaration]
    notifications: list[Notification]
    reports: list[InspectionReport]
    requests: list[LoggedRecord]
    inspections: list[Case] = field(default_factory=list)
    #: Every declaration with `as_of` up to `at`, in log order.
    valid: list[Declaration] = field(default_factory=list)

    def for_agreement(self, ag: Agreement) -> State:
        """The state as `ag` sees it: each party's latest declaration under `ag`."""
        return replace(self, declarations=_latest(d for d in self.valid if d.concerns(ag)))

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


def _declaration(rec: LoggedRecord, p: Projection) -> None:
    b = rec.body
    holdings = b.get("holdings", [])
    sites = b.get("sites", [])
    itemised = "holdings" in b
    scope = b.get("agreements", [])
    if not isinstance(scope, list) or not all(isinstance(x, str) for x in scope):
        raise ValueError("agreements (what the declaration is made under) must be a list of ids")
    commitment, sealed = None, False
    if "commitment" in b:
        try:
            commitment = Commitment.from_json(b["commitment"])
        except ProofError as exc:
            raise ValueError(f"commitment: {exc.message}") from exc
        if "holdings" in b:
            raise ValueError("a committed declaration carries its root, not its holdings")
        # the procedure holds an inspected party to its committed declarations, whatever else
        # the body says
        p.procedure.declared(DeclaredCommitment(rec.index, rec.author, rec.signed_at,
                                                str(b.get("as_of", "")), commitment))
        opened = p.disclosed.get(commitment.root)
        if commitment.size == 0:  # a commitment to no records at all: zero, for anyone to see
            opened = []
        holdings, sealed = (list(opened), False) if opened is not None else ([], True)
        itemised = not sealed
    if not isinstance(holdings, list) or not isinstance(sites, list):
        raise ValueError("holdings and sites must be lists")
    items = []
    for x in holdings:
        if not isinstance(x, dict) or not isinstance(x.get("count", 1), int):
            raise ValueError("each holding is an object with an integer count")
        items.append({**x, "party": rec.author})
    p.declarations.append(
        Declaration(
            rec,
            _date(b.get("as_of")),
            tuple(items),
            {str(s["id"]): s for s in sites if isinstance(s, dict) and "id" in s},
            b.get("aggregates") or {},
            commitment,
            sealed,
            itemised,
            frozenset(scope),
        )
    )


def _notification(rec: LoggedRecord, p: Projection) -> None:
    b = rec.body
    p.notifications.append(Notification(rec, str(b.get("event")), parse_time(b.get("event_time", ""))))


def _request(rec: LoggedRecord, p: Projection) -> None:
    p.requests.append(rec)


def _report(rec: LoggedRecord, p: Projection) -> None:
    b = rec.body
    configs = b.get("configurations", [])
    p.reports.append(
        InspectionReport(rec, str(b.get("site")), str(b.get("inspected", "")),
                         tuple(c for c in configs if isinstance(c, dict)))
    )


#: What each record kind adds to the projection (kinds not listed are kept as records only).
_FOLD = {
    "declaration": _declaration,
    "notification": _notification,
    "inspection-request": _request,
    "inspection-report": _report,
}


def _fold(rec: LoggedRecord, p: Projection) -> None:
    fold = _FOLD.get(rec.kind)
    if fold is not None:
        fold(rec, p)


def project_log(
    store: LogStore,
    size: int | None = None,
    *,
    agreements: Mapping[str, Agreement] | None = None,
    registry: Registry | None = None,
    known_at: dt.datetime | None = None,
    disclosed: Mapping[bytes, list[dict[str, Any]]] | None = None,
) -> Projection:
    """The projection of the first `size` entries (bound it by a checkpoint so evidence matches;
    None: the whole log as it stands)."""
    n = store.size() if size is None else size
    leaves = ((e.index, e.leaf) for e in store.iter_entries() if e.index < n)
    p = Projection(dict(agreements or {}), registry, known_at, dict(disclosed or {}))
    return p.extend(read_records(leaves))
