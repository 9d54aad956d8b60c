"""What every obligation family reads: the agreement, the state, the holdings table and the date,
and the one way a finding is made (its status, its explanation, its legal consequence).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from detente import geo
from detente.agreement.model import Agreement, Obligation, Reading
from detente.agreement.table import HoldingsTable
from detente.compliance.columns import build_table, site_table
from detente.compliance.findings import Evidence, Finding, Status
from detente.compliance.projection import Declaration, State
from detente.model.records import LoggedRecord

__all__ = ["Context", "end_of_day", "evidence_of", "finding", "in_force_from", "inside_by_site",
           "legal_consequence", "make_context", "times"]


@dataclass
class Context:
    ag: Agreement
    state: State
    table: HoldingsTable
    at: str
    hypothetical: bool
    party_codes: dict[str, int]
    site_names: list[str]
    site_known: npt.NDArray[np.bool_]  # by site code: do we know where the site is?
    site_lonlat: npt.NDArray[np.float64]


def make_context(ag: Agreement, state: State, table: HoldingsTable | None, hypothetical: bool) -> Context:
    table = table if table is not None else build_table(ag, state)
    sites = site_table(ag, state)
    names = table.names("site")
    known = np.array([n in sites for n in names], dtype=np.bool_)
    lonlat = np.array(
        [[sites[n][2], sites[n][3]] if n in sites else [np.nan, np.nan] for n in names], dtype=np.float64
    ).reshape(len(names), 2)
    return Context(
        ag,
        state,
        table,
        state.at.isoformat(),
        hypothetical,
        table.vocab.get("party", {}),
        names,
        known,
        lonlat,
    )


def times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def evidence_of(
    decl: Declaration | None, rec: LoggedRecord | None = None, role: str | None = None
) -> Evidence:
    r = rec if rec is not None else decl.record if decl is not None else None
    assert r is not None
    if role is None and decl is not None:
        role = f"{decl.party}'s declaration as of {decl.as_of.isoformat()}"
    return Evidence(
        r.index, r.kind, r.author, r.seq, r.signed_at.strftime("%Y-%m-%dT%H:%M:%SZ"), role or r.kind
    )


def legal_consequence(ag: Agreement) -> str:
    if ag.legal_status == "ratified-treaty":
        text = (
            f"{ag.title} is a ratified treaty: a material breach entitles the other party to invoke "
            "it as grounds for suspending or terminating the treaty (Vienna Convention on the Law of "
            "Treaties, Article 60)"
        )
        if ag.withdrawal:
            text += (
                f", and {ag.withdrawal.clause} allows withdrawal on {ag.withdrawal.notice_days} days' notice"
            )
        return text + "."
    if ag.legal_status == "executive-agreement":
        return f"{ag.title} is an executive agreement: binding on the governments, not ratified."
    return (
        f"{ag.title} is a political commitment: a breach has political, not legal, consequences; "
        "the signed record is what makes it attributable."
    )


def finding(
    ctx: Context,
    ob: Obligation,
    party: str,
    reading: Reading | None,
    status: Status,
    explanation: str,
    **kw: Any,
) -> Finding:
    legal = legal_consequence(ctx.ag) if status == "violation" else None
    return Finding(
        agreement=ctx.ag.id,
        obligation=ob.id,
        kind=ob.kind,
        clause=ob.clause,
        party=party,
        interpretation=reading.by if reading is not None else None,
        status=status,
        value=kw.pop("value", None),
        bound=kw.pop("bound", None),
        unit=kw.pop("unit", ""),
        explanation=explanation,
        at=ctx.at,
        legal=legal,
        hypothetical=ctx.hypothetical,
        **kw,
    )


def inside_by_site(ctx: Context, zone_id: str) -> npt.NDArray[np.bool_]:
    """By site code: is the site inside the zone (False where its location is unknown)?"""
    lonlat = ctx.site_lonlat
    if not len(lonlat):
        return np.zeros(0, dtype=np.bool_)
    ok = ~np.isnan(lonlat[:, 0])
    inside = np.zeros(len(lonlat), dtype=np.bool_)
    if ok.any():
        inside[ok] = geo.contains_points(ctx.ag.zones[zone_id].geometry, lonlat[ok, 0], lonlat[ok, 1])
    return inside


def in_force_from(ag: Agreement) -> dt.datetime:
    d = ag.entry_into_force or ag.signed or ag.proposed_on or dt.date(1970, 1, 1)
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def end_of_day(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=dt.UTC)
