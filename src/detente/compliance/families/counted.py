"""Counted rules: limits, bans and zone rules over the holdings, under each party's reading.

Rules are evaluated over the holdings table, once per party and per reading. Where parties read
a rule differently, each reading is evaluated and the finding says what the readings count
differently, item by item: the divergence is the finding, not a footnote.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from detente.agreement.model import Counted, Obligation, Reading
from detente.agreement.table import HoldingsTable
from detente.compliance.columns import TOP, assumed, groups, item_keys, missing, num, weights
from detente.compliance.context import Context, evidence_of, finding, inside_by_site
from detente.compliance.details import Assumption, CountedDetails, Divergence, Undecided
from detente.compliance.findings import Finding, Status

__all__ = ["evaluate_counted"]


def evaluate_counted(ctx: Context, ob: Obligation, party: str, reading: Reading | None) -> Finding:
    assert isinstance(ob, Counted)
    assert reading is not None
    decl = ctx.state.declarations.get(party)
    if decl is None:
        return finding(
            ctx,
            ob,
            party,
            reading,
            "unverified",
            f"{party} has no declaration as of {ctx.at} in the log, so {ob.id} cannot be checked.",
        )
    if not decl.itemised:
        return finding(
            ctx,
            ob,
            party,
            reading,
            "unverified",
            (f"{party}'s declaration as of {decl.as_of} is committed record by record (root "
             f"{decl.commitment.root.hex()[:16]}…) but its records were not disclosed to this "
             "workspace, so only its aggregates can be read"
             if decl.sealed and decl.commitment is not None else
             f"{party}'s declaration as of {decl.as_of} gives aggregates only, not the holdings the "
             "rule counts")
            + f"; {ob.id} cannot be checked item by item.",
            evidence=(evidence_of(decl),),
        )
    table = assumed(ctx.table, reading)
    mask, unknown, undecided = _mask(ctx, ob, reading, party, table)
    w, lacks_sum = weights(table, reading)
    value = num(float(w[mask].sum()))
    bound = reading.max if ob.kind == "limit" else 0
    unit = (reading.sum or "item") if ob.kind == "limit" else "item"
    sites = groups(table, mask, w, ["site"])[:TOP]
    items = groups(table, mask, w, item_keys(table, reading))[:TOP]
    evidence = tuple(evidence_of(d) for d in [decl])
    what = reading.select.text
    assumptions = tuple(Assumption(s.text, dict(v)) for s, v in reading.assume)
    divergence = _divergence(ctx, ob, party, reading)
    undecided_details: Undecided | None = None

    gaps = int((mask & lacks_sum).sum())
    unlocated = int(unknown.sum()) if unknown is not None else 0
    where = f" in zone {ob.zone}" if ob.zone else (f" at {', '.join(ob.sites)}" if ob.sites else "")
    who = f"Under {reading.by}'s reading, " if reading.by else ""
    noun = ("item" if value == 1 else "items") if reading.sum is None else reading.sum
    if ob.kind == "limit":
        assert bound is not None
        over = value - bound
        status: Status = "violation" if over > 0 else "compliant"
        text = f"{who}{party} has {value:,} {noun} matching `{what}`{where} against a limit of {bound:,}" + (
            f": {over:,} over." if over > 0 else f" ({bound - value:,} under)."
        )
    else:
        status = "violation" if value > 0 else "compliant"
        text = (
            f"{who}{party} declares {value:,} {noun} matching `{what}`{where}, which the rule bans"
            if value > 0
            else f"{who}{party} declares nothing matching `{what}`{where}."
        )
        if value > 0:
            text += "."
    if sites and status == "violation":
        text += " Largest: " + ", ".join(f"{s['site']} ({s['count']:,})" for s in sites[:3]) + "."
    if divergence:
        text += " " + " ".join(d.summary for d in divergence)
    n_undecided = int(table.count[undecided].sum()) if undecided.any() else 0
    if gaps or unlocated or n_undecided:
        status = "unverified" if status == "compliant" else status
        if n_undecided:
            lacking = sorted(n for n in reading.select.names
                             if n in table.columns and bool(missing(table, n)[undecided].any()))
            top = groups(table, undecided, table.count.astype(np.float64), ["site", "category"])[:3]
            text += (
                f" {n_undecided:,} {'item' if n_undecided == 1 else 'items'} cannot be decided: "
                f"{'it lacks' if n_undecided == 1 else 'they lack'} {', '.join(lacking) or 'an attribute'}"
                " the rule reads ("
                + ", ".join(f"{g['category']} at {g['site']} ({g['count']:,})" for g in top)
                + "), so the value leaves them out."
            )
            undecided_details = Undecided(n_undecided, tuple(lacking), tuple(top))
        if gaps:
            text += f" {gaps} matching holdings lack '{reading.sum}', so the total is a lower bound."
        if unlocated:
            text += (
                f" {unlocated} holdings are at sites with no declared location; the zone cannot be checked."
            )
    return finding(
        ctx,
        ob,
        party,
        reading,
        status,
        text,
        value=value,
        bound=bound,
        unit=unit,
        sites=tuple(sites),
        items=tuple(items),
        evidence=evidence,
        details=CountedDetails(what, reading.text, assumptions, divergence, undecided_details),
    )


def _mask(
    ctx: Context, ob: Counted, reading: Reading, party: str, table: HoldingsTable
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_] | None, npt.NDArray[np.bool_]]:
    """Rows counted for `party` under `reading`; (rules over a zone) rows at sites of unknown
    location; and rows the selector cannot decide because they lack an attribute it reads. A limit
    or ban with `zone:` counts the sites the declarations locate inside it, so no site can be left
    off a hand-kept list."""
    code = ctx.party_codes.get(party, -2)
    true, undecided = reading.select.mask3(table)
    mine = table.column("party") == code
    mask, undecided = true & mine, undecided & mine
    unknown = None
    if ob.zone is not None or ob.sites is not None:
        site_col = table.column("site")
        if ob.sites is not None:
            wanted = np.isin(site_col, np.array([table.code("site", s) for s in ob.sites], dtype=np.int32))
            mask &= wanted
            undecided &= wanted
        else:
            assert ob.zone is not None
            inside = inside_by_site(ctx, ob.zone)
            sc = np.where(site_col >= 0, site_col, 0)
            known = (
                ctx.site_known[sc] & (site_col >= 0) if len(ctx.site_known) else np.zeros(len(site_col), bool)
            )
            unknown = mask & ~known
            in_zone = known & (inside[sc] if len(inside) else False)
            mask &= in_zone
            undecided &= in_zone | ~known
    return mask, unknown, undecided


def _divergence(ctx: Context, ob: Counted, party: str, reading: Reading) -> tuple[Divergence, ...]:
    """What this reading counts that each other party's reading does not, and vice versa."""
    if not ob.interpreted:
        return ()
    out = []
    mine_t = assumed(ctx.table, reading)
    mine, _, _ = _mask(ctx, ob, reading, party, mine_t)
    w_mine, _ = weights(mine_t, reading)
    for other in ob.readings:
        if other is reading:
            continue
        other_t = assumed(ctx.table, other)
        theirs, _, _ = _mask(ctx, ob, other, party, other_t)
        w_theirs, _ = weights(other_t, other)
        v_mine, v_theirs = float(w_mine[mine].sum()), float(w_theirs[theirs].sum())
        keys = [*item_keys(mine_t, reading, other), "site"]  # what either reading looks at
        only_mine = groups(mine_t, mine & ~theirs, w_mine, keys)
        only_theirs = groups(other_t, theirs & ~mine, w_theirs, keys)
        diff = v_mine - v_theirs
        if diff == 0 and not only_mine and not only_theirs:
            continue

        def fmt(found: list[dict[str, Any]]) -> str:
            parts = []
            for g in found[:6]:
                attrs = ", ".join(f"{k} {v}" for k, v in g.items()
                                  if k not in ("count", "site", "category") and v is not None)
                what = f"{g['category']} ({attrs})" if attrs else g["category"]
                parts.append(f"{g['count']:,} {what} at {g['site']}")
            more = len(found) - 6
            return "; ".join(parts) + (f"; and {more} more groups" if more > 0 else "")

        more = "more" if diff > 0 else "fewer"
        summary = f"{reading.by}'s reading counts {num(abs(diff)):,} {more} than {other.by}'s"
        if only_mine:
            summary += f" (only {reading.by} counts: {fmt(only_mine)})"
        if only_theirs:
            summary += f" (only {other.by} counts: {fmt(only_theirs)})"
        assert other.by is not None
        out.append(Divergence(other.by, num(v_mine), num(v_theirs), tuple(only_mine), tuple(only_theirs),
                              summary + "."))
    return tuple(out)
