"""What each family of finding says beyond its value and bound: typed, one class per kind.

A finding's `details` were an untyped dict; each family now states what it adds, and `to_json`
keeps the wire form the API, the dashboard and the report have always read (optional parts are
left out when empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Assumption",
    "CapabilityDetails",
    "CountedDetails",
    "Details",
    "Divergence",
    "InspectionCheck",
    "InspectionDetails",
    "Undecided",
]


@dataclass(frozen=True)
class Assumption:
    """A reading's assumption: the items `where` selects are taken to have the values `set`."""

    where: str
    set: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"where": self.where, "set": dict(self.set)}


@dataclass(frozen=True)
class Divergence:
    """What this reading counts that another party's reading does not, and the reverse."""

    versus: str
    this_value: int | float
    other_value: int | float
    only_this: tuple[Mapping[str, Any], ...]
    only_other: tuple[Mapping[str, Any], ...]
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {"versus": self.versus, "this_value": self.this_value, "other_value": self.other_value,
                "only_this": [dict(g) for g in self.only_this],
                "only_other": [dict(g) for g in self.only_other], "summary": self.summary}


@dataclass(frozen=True)
class Undecided:
    """Items the rule's selector cannot decide: they lack an attribute it reads."""

    count: int
    lacking: tuple[str, ...]
    largest: tuple[Mapping[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "lacking": list(self.lacking),
                "largest": [dict(g) for g in self.largest]}


@dataclass(frozen=True)
class CountedDetails:
    """A limit, ban or zone rule: the selector and reading applied, and where readings part."""

    selector: str
    reading: str | None
    assumptions: tuple[Assumption, ...] = ()
    divergence: tuple[Divergence, ...] = ()
    undecided: Undecided | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"selector": self.selector, "reading": self.reading}
        if self.assumptions:
            out["assumptions"] = [a.to_json() for a in self.assumptions]
        if self.divergence:
            out["divergence"] = [d.to_json() for d in self.divergence]
        if self.undecided is not None:
            out["undecided"] = self.undecided.to_json()
        return out


@dataclass(frozen=True)
class CapabilityDetails:
    banned_categories: tuple[str, ...]
    presumption: str

    def to_json(self) -> dict[str, Any]:
        return {"banned_categories": list(self.banned_categories), "presumption": self.presumption}


@dataclass(frozen=True)
class InspectionCheck:
    """One inspection report set against the records the host opened for its site."""

    inspection: str
    site: str | None
    method: str
    report: int
    countersigned: bool
    opened: int
    declared: Mapping[str, int]
    found: Mapping[str, int]
    discrepancies: tuple[str, ...]
    ambiguities: tuple[Mapping[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {"inspection": self.inspection, "site": self.site, "method": self.method,
                "report": self.report, "countersigned": self.countersigned, "opened": self.opened,
                "declared": dict(self.declared), "found": dict(self.found),
                "discrepancies": list(self.discrepancies),
                "ambiguities": [dict(a) for a in self.ambiguities]}


@dataclass(frozen=True)
class InspectionDetails:
    inspecting: str
    inspected: str
    selection: tuple[str, ...]
    notice_hours: int
    #: The inspected party's finding only: each report checked against the opened records.
    inspections: tuple[InspectionCheck, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"inspecting": self.inspecting, "inspected": self.inspected,
                               "selection": list(self.selection), "notice_hours": self.notice_hours}
        if self.inspections is not None:
            out["inspections"] = [c.to_json() for c in self.inspections]
        return out


Details = CountedDetails | CapabilityDetails | InspectionDetails
