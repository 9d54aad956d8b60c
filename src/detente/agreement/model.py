"""An agreement, resolved: plain, immutable data the evaluator reads.

Everything here has been checked: categories exist, selectors are compiled against the
vocabulary, zones are valid shapes, conditions name real obligations. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from detente.agreement.selector import Selector, Vocabulary

LegalStatus = Literal["ratified-treaty", "executive-agreement", "political-commitment"]

LEGAL_STATUS_TEXT = {
    "ratified-treaty": "a ratified treaty, binding in international law",
    "executive-agreement": "an executive agreement, binding on the governments that concluded it",
    "political-commitment": "a political commitment, not legally binding",
}


@dataclass(frozen=True)
class Party:
    id: str
    name: str


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # number, integer, bool, string, enum, list
    values: frozenset[str] | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Category:
    name: str
    attributes: tuple[str, ...]
    defaults: Mapping[str, Any]


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    owner: str
    host: str
    kind: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Zone:
    id: str
    geometry: Any  # a shapely geometry (prepared)
    description: str | None


@dataclass(frozen=True)
class Withdrawal:
    clause: str
    notice_days: int
    text: str | None


@dataclass(frozen=True)
class Condition:
    reciprocal: str | None = None
    after: dt.date | None = None
    before: dt.date | None = None
    note: str | None = None

    def describe(self) -> str:
        if self.reciprocal:
            return f"while the other parties comply with {self.reciprocal}"
        if self.after and self.before:
            return f"from {self.after} until {self.before}"
        if self.after:
            return f"from {self.after}"
        return f"until {self.before}"


@dataclass(frozen=True)
class Reading:
    """How a rule is applied: the agreed text, or one party's interpretation of it.

    `by` is None for the rule as written; a party id when that party reads it this way.
    """

    by: str | None
    text: str | None
    select: Selector
    sum: str | None = None
    counting: tuple[tuple[Selector, int], ...] = ()
    assume: tuple[tuple[Selector, Mapping[str, Any]], ...] = ()
    max: int | None = None
    source: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return "agreed text" if self.by is None else f"{self.by} reading"


@dataclass(frozen=True)
class Obligation:
    id: str
    kind: str
    clause: str
    text: str | None
    source: tuple[str, ...]
    parties: tuple[str, ...]
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Counted(Obligation):
    """limit, ban, zone: rules over counted items, each with one or more readings."""

    readings: tuple[Reading, ...] = ()
    zone: str | None = None  # zone rules: a zone, or
    sites: tuple[str, ...] | None = None  # named sites

    @property
    def interpreted(self) -> bool:
        return any(r.by is not None for r in self.readings)


@dataclass(frozen=True)
class Capability(Obligation):
    launcher: Selector | None = None
    banned: Selector | None = None
    banned_categories: frozenset[str] = frozenset()
    sites: tuple[str, ...] | None = None
    zone: str | None = None
    presumption: str = "capable"


@dataclass(frozen=True)
class Notify(Obligation):
    event: str = ""
    within_days: int | None = None
    advance_days: int | None = None
    select: Selector | None = None


@dataclass(frozen=True)
class Inspection(Obligation):
    inspecting: str = ""
    inspected: str = ""
    quota_count: int = 0
    quota_per: str = "year"
    #: Where quota periods start: None for calendar periods, else the first day of the first period
    #: (entry into force for treaty years, or a date the agreement names).
    quota_anchor: dt.date | None = None
    notice_hours: int = 0
    selection: str = "challenge"  # the first (or only) method
    selections: tuple[str, ...] = ("challenge",)  # every method the inspector may use
    reveal_hours: int = 24  # joint-random: time to commit after the request, to reveal after both commit
    site_kinds: tuple[str, ...] | None = None
    sites: tuple[str, ...] | None = None
    weights: Mapping[str, float] | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class Exchange(Obligation):
    as_of: tuple[tuple[int, int], ...] = ()  # (month, day) cut-offs
    due_days: int = 0


@dataclass(frozen=True)
class Unmodelled:
    clause: str
    text: str
    reason: str
    source: tuple[str, ...] = ()


@dataclass(frozen=True)
class Agreement:
    id: str
    title: str
    file: str
    legal_status: LegalStatus
    parties: tuple[Party, ...]
    hosts: tuple[Party, ...]
    attributes: Mapping[str, Attribute]
    categories: Mapping[str, Category]
    vocabulary: Vocabulary
    zones: Mapping[str, Zone]
    sites: Mapping[str, Site]
    obligations: tuple[Obligation, ...]
    proposed_by: str | None = None
    proposed_on: dt.date | None = None
    signed: dt.date | None = None
    entry_into_force: dt.date | None = None
    expires: dt.date | None = None
    withdrawal: Withdrawal | None = None
    source: tuple[str, ...] = field(default=())
    files: tuple[str, ...] = ()  # the agreement file and every file it includes, as read
    unmodelled: tuple[Unmodelled, ...] = ()  # clauses recorded, not evaluated

    @property
    def party_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parties)

    def obligation(self, oid: str) -> Obligation:
        for o in self.obligations:
            if o.id == oid:
                return o
        raise KeyError(oid)

    def stage_at(self, at: dt.date) -> str:
        """proposed, signed (not yet in force), in-force or expired, at date `at`."""
        if self.entry_into_force is not None and self.entry_into_force <= at:
            if self.expires is not None and at >= self.expires:
                return "expired"
            return "in-force"
        if self.signed is not None and self.signed <= at:
            return "signed"
        return "proposed"
