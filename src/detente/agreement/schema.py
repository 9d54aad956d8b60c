"""The shape of an agreement file, as Pydantic models: validation of types and fields, and the
JSON Schema editors use (`detente agreement schema`).

This layer only knows shapes. Whether a category exists, a selector parses, a zone is a valid
polygon or a condition names a real obligation is the loader's job (`loader.py`), which turns
these models into the plain model of `model.py`. Keeping the two apart means the exported schema
is exactly what the loader enforces for shape, and nothing here needs a file or a clock.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

_ID = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
_PARTY = r"^[A-Z][A-Z0-9_-]{0,15}$"
_ATTR = r"^[a-z][a-z0-9_]*$"


def _iso_date(v: Any) -> Any:
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return v
    if isinstance(v, dt.date):
        return v
    raise ValueError("a date written YYYY-MM-DD")


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Id = Annotated[str, Field(pattern=_ID, max_length=64)]
PartyId = Annotated[str, Field(pattern=_PARTY)]
AttrName = Annotated[str, Field(pattern=_ATTR, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Count = Annotated[StrictInt, Field(ge=0)]
Positive = Annotated[StrictInt, Field(gt=0)]
Sources = str | list[str]
Scalar = StrictBool | StrictInt | float | str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartyDoc(Strict):
    id: PartyId
    name: Text
    source: Sources | None = None


class HostDoc(Strict):
    """A state that hosts sites but is not a party (Romania and Poland in 2022)."""

    id: PartyId
    name: Text


class WithdrawalDoc(Strict):
    clause: Text
    notice_days: Count
    text: Text | None = None
    source: Sources | None = None


class AttributeDoc(Strict):
    type: Literal["number", "integer", "bool", "string", "enum", "list"]
    values: list[str] | None = Field(None, description="the allowed values of an enum")
    unit: str | None = None
    description: str | None = None


class CategoryDoc(Strict):
    description: str | None = None
    attributes: list[AttrName] = Field(
        default_factory=list, description="the attributes items of this category carry"
    )
    defaults: dict[AttrName, Scalar | list[str]] = Field(
        default_factory=dict, description="values an item has unless its declaration says otherwise"
    )
    source: Sources | None = None


class DefinitionsDoc(Strict):
    attributes: dict[AttrName, AttributeDoc] = Field(default_factory=dict)
    categories: dict[str, CategoryDoc] = Field(default_factory=dict)
    selectors: dict[Id, str] = Field(
        default_factory=dict, description="named selectors, usable as `$name` in place of a selector"
    )


class ZoneDoc(Strict):
    """One of: a shipped shape (`builtin`), a GeoJSON file beside the agreement, an inline ring."""

    builtin: str | None = None
    geojson: str | None = None
    polygon: list[list[float]] | None = Field(None, description="[[lon, lat], ...], closed")
    description: str | None = None
    source: Sources | None = None


class SiteDoc(Strict):
    id: Id
    name: Text
    owner: PartyId
    host: PartyId
    kind: str
    location: Annotated[list[float], Field(min_length=2, max_length=2)]
    source: Sources | None = None


class CountingRule(Strict):
    """For a sum: items matching `where` count as `counts_as` each, whatever their attribute says."""

    where: str
    counts_as: Count
    note: str | None = None


class Assumption(Strict):
    """Items matching `where` are taken to have these attribute values (a party's reading)."""

    where: str
    set: dict[AttrName, Scalar]
    note: str | None = None


class Interpretation(Strict):
    """One party's reading of a rule: the parts it reads differently, and where it said so."""

    reading: Text
    select: str | None = None
    sum: AttrName | None = None
    counting: list[CountingRule] | None = None
    assume: list[Assumption] | None = None
    max: Count | None = None
    source: Sources | None = None


class Condition(Strict):
    """Exactly one of: `reciprocal` (applies to a party only while every other party bound by the
    named obligation complies with it), `after` / `before` (a date window)."""

    reciprocal: Id | None = None
    after: Date | None = None
    before: Date | None = None
    note: str | None = None


class _Obligation(Strict):
    id: Id
    clause: Text = Field(description="where in the instrument the rule is, e.g. 'Article II.1(a)'")
    text: Text | None = Field(None, description="the rule's wording, quoted")
    source: Sources | None = None
    parties: list[PartyId] | None = Field(None, description="who is bound (default: every party)")
    conditions: list[Condition] = Field(default_factory=list)
    interpretations: dict[PartyId, Interpretation] = Field(default_factory=dict)


class LimitDoc(_Obligation):
    kind: Literal["limit"]
    select: str
    sum: AttrName | None = Field(None, description="sum this attribute (× count); default counts items")
    max: Count
    counting: list[CountingRule] = Field(default_factory=list)
    assume: list[Assumption] = Field(default_factory=list)
    zone: Id | None = Field(None, description="count only items at sites inside this zone")
    sites: list[Id] | None = Field(None, description="or: only items at these sites")


class BanDoc(_Obligation):
    kind: Literal["ban"]
    select: str
    assume: list[Assumption] = Field(default_factory=list)
    zone: Id | None = Field(None, description="ban only inside this zone")
    sites: list[Id] | None = Field(None, description="or: only at these sites")


class ZoneRuleDoc(_Obligation):
    kind: Literal["zone"]
    select: str
    zone: Id | None = Field(None, description="a zone defined under zones:")
    sites: list[Id] | None = Field(None, description="or: named sites")
    assume: list[Assumption] = Field(default_factory=list)


class CapabilityDoc(_Obligation):
    kind: Literal["capability"]
    launcher: str = Field(description="selector of the launchers concerned")
    banned: str = Field(description="selector over categories: what they must not be able to launch")
    sites: list[Id] | None = None
    zone: Id | None = None
    presumption: Literal["capable", "incapable"] = Field(
        "capable", description="what a launcher can fire when no verified configuration says otherwise"
    )


class NotifyDoc(_Obligation):
    kind: Literal["notify"]
    event: Literal["movement", "conversion", "elimination", "deployment", "exercise"]
    within_days: Count | None = Field(None, description="notice due at most this many days after the event")
    advance_days: Count | None = Field(None, description="notice due at least this many days before it")
    select: str | None = None


class Quota(Strict):
    count: Count
    per: Literal["year", "half-year", "quarter", "month"]
    start: Literal["calendar", "entry-into-force"] | Date = Field(
        "calendar",
        alias="from",
        description="where periods start: 'calendar' (1 January, 1 July, …), 'entry-into-force' "
        "(treaty years: the INF Treaty's first treaty year ran from 1 June 1988), or a date",
    )


Method = Literal["challenge", "joint-random", "unilateral"]


class InspectionDoc(_Obligation):
    kind: Literal["inspection"]
    inspecting: PartyId
    inspected: PartyId
    quota: Quota
    notice_hours: Count
    selection: Method | Annotated[list[Method], Field(min_length=1)] = Field(
        description="how sites are chosen: one method, or the list of methods the inspector may use"
    )
    reveal_hours: Count | None = Field(
        None, description="joint-random: hours each party has to commit after the request, and to "
        "reveal after the second commitment (default 24)"
    )
    site_kinds: list[str] | None = None
    sites: list[Id] | None = None
    weights: dict[str, Annotated[float, Field(ge=0)]] | None = Field(
        None, description="draw weight per site kind (joint-random)"
    )
    purpose: str | None = None


class ExchangeDoc(_Obligation):
    kind: Literal["exchange"]
    as_of: Annotated[list[Annotated[str, Field(pattern=r"^\d{2}-\d{2}$")]], Field(min_length=1)] = (
        Field(description="the month-day of each data cut-off, e.g. ['03-01', '09-01']")
    )
    due_days: Count = Field(description="days after each cut-off by which the data must be in the log")


Obligation = Annotated[
    LimitDoc | BanDoc | ZoneRuleDoc | CapabilityDoc | NotifyDoc | InspectionDoc | ExchangeDoc,
    Field(discriminator="kind"),
]


class IncludeDoc(Strict):
    """A file of shared definitions, zones and sites (a vocabulary several agreements use)."""

    definitions: DefinitionsDoc = Field(default_factory=DefinitionsDoc)
    zones: dict[Id, ZoneDoc] = Field(default_factory=dict)
    sites: list[SiteDoc] = Field(default_factory=list)


class UnmodelledDoc(Strict):
    """A clause the agreement makes that is not a rule over declared items (membership, doctrine,
    areas no text defines): recorded with its source so a comparison shows it, never evaluated."""

    clause: Text
    text: Text
    reason: Text = Field(description="why it is not expressed as an obligation")
    source: Sources | None = None


class AgreementDoc(Strict):
    agreement: Id = Field(description="a short identifier, e.g. new-start")
    title: Text
    legal_status: Literal["ratified-treaty", "executive-agreement", "political-commitment"]
    proposed_by: PartyId | None = None
    proposed_on: Date | None = None
    signed: Date | None = None
    entry_into_force: Date | None = None
    expires: Date | None = None
    withdrawal: WithdrawalDoc | None = None
    source: Sources | None = None
    parties: Annotated[list[PartyDoc], Field(min_length=1)]
    hosts: list[HostDoc] = Field(default_factory=list)
    include: list[str] = Field(default_factory=list, description="vocabulary files, relative to this one")
    definitions: DefinitionsDoc = Field(default_factory=DefinitionsDoc)
    zones: dict[Id, ZoneDoc] = Field(default_factory=dict)
    sites: list[SiteDoc] = Field(default_factory=list)
    obligations: list[Obligation] = Field(default_factory=list)
    unmodelled: list[UnmodelledDoc] = Field(
        default_factory=list, description="clauses recorded with their source but not evaluated"
    )


def _close_patterned_maps(node: Any) -> None:
    """Pydantic exports a dict with constrained keys as `patternProperties` alone, which lets any
    other key through; the model refuses them, so the exported schema must too."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            _close_patterned_maps(v)
    elif isinstance(node, list):
        for v in node:
            _close_patterned_maps(v)


def json_schema() -> dict[str, Any]:
    schema = AgreementDoc.model_json_schema()
    _close_patterned_maps(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://detente.example/schema/agreement-v1.json"
    schema["title"] = "Détente agreement"
    return schema
