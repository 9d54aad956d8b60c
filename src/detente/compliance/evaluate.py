"""The evaluator: (agreement, state, date) -> findings, each explaining itself.

Rules are evaluated over the holdings table (columns, see agreement/table.py), once per party and
per reading. Where parties read a rule differently, each reading is evaluated and the finding
says what the readings count differently, item by item: the divergence is the finding, not a
footnote. Conditions (reciprocity, date windows) are applied last, from the unconditioned
results, so mutual conditions ("each side, while the other complies") have no cycle to resolve.

Statuses:
  compliant       the rule holds on the record;
  violation       the record shows the rule broken (the party's own declaration, late notice...);
  unverified      the record cannot tell: no declaration, a missing attribute, a site without a
                  location, data not yet exchanged;
  not_applicable  not in force at that date, the party is not bound, or a condition is unmet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from detente.agreement import model as m
from detente.agreement.selector import Selector
from detente.agreement.table import HoldingsTable, SiteInfo
from detente.compliance.findings import Evidence, Finding, Status
from detente.compliance.state import Declaration, Notification, Record, State
from detente.inspection.procedure import Case, Step, period_start

TOP = 20  # sites and item groups listed per finding; the totals always cover everything


@dataclass
class _Ctx:
    ag: m.Agreement
    state: State
    table: HoldingsTable
    at: str
    hypothetical: bool
    party_codes: dict[str, int]
    site_names: list[str]
    site_known: npt.NDArray[np.bool_]  # by site code: do we know where the site is?
    site_lonlat: npt.NDArray[np.float64]


def _plural(n: int | float, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s" if not word.endswith("s") else f"{n:,} {word}"


def _evidence_of(decl: Declaration | None, rec: Record | None = None, role: str | None = None) -> Evidence:
    r = rec if rec is not None else decl.record if decl is not None else None
    assert r is not None
    if role is None and decl is not None:
        role = f"{decl.party}'s declaration as of {decl.as_of.isoformat()}"
    return Evidence(
        r.index, r.kind, r.author, r.seq, r.signed_at.strftime("%Y-%m-%dT%H:%M:%SZ"), role or r.kind
    )


def legal_consequence(ag: m.Agreement) -> str:
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


def build_table(ag: m.Agreement, state: State) -> HoldingsTable:
    items: list[Mapping[str, Any]] = []
    origins: list[int] = []
    for d in state.declarations.values():
        items.extend(d.holdings)
        origins.extend([d.record.index] * len(d.holdings))
    sites = _sites(ag, state)
    return HoldingsTable.from_items(
        items,
        ag.attributes,
        ag.categories,
        {k: SiteInfo(v[0], v[1], v[2], v[3]) for k, v in sites.items()},
        origins,
    )


def table_key(ag: m.Agreement) -> tuple[Any, ...]:
    """Agreements sharing a vocabulary (and sites) can share one holdings table."""
    attrs = tuple(sorted((a.name, a.type) for a in ag.attributes.values()))
    cats = tuple(sorted((c.name, repr(sorted(c.defaults.items()))) for c in ag.categories.values()))
    sites = tuple(sorted((s.id, s.kind, s.host, s.lon, s.lat) for s in ag.sites.values()))
    return attrs, cats, sites


def _sites(ag: m.Agreement, state: State) -> dict[str, tuple[str, str, float, float]]:
    out = {s.id: (s.kind, s.host, s.lon, s.lat) for s in ag.sites.values()}
    out.update(state.site_locations())  # a party's own declaration of its sites prevails
    return out


def _context(ag: m.Agreement, state: State, table: HoldingsTable | None, hypothetical: bool) -> _Ctx:
    table = table if table is not None else build_table(ag, state)
    sites = _sites(ag, state)
    names = table.names("site")
    known = np.array([n in sites for n in names], dtype=np.bool_)
    lonlat = np.array(
        [[sites[n][2], sites[n][3]] if n in sites else [np.nan, np.nan] for n in names], dtype=np.float64
    ).reshape(len(names), 2)
    return _Ctx(
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


def evaluate(
    ag: m.Agreement,
    state: State,
    *,
    hypothetical: bool = False,
    table: HoldingsTable | None = None,
) -> list[Finding]:
    """Every obligation × bound party (× reading) at `state.at`.

    `hypothetical`: evaluate an agreement that is proposed or signed but not in force as if it
    were in force (what negotiators ask of a proposal); findings are marked so.
    """
    stage = ag.stage_at(state.at)
    live = stage == "in-force" or (hypothetical and stage in ("proposed", "signed"))
    ctx = _context(ag, state, table, hypothetical and stage in ("proposed", "signed"))
    findings: list[Finding] = []
    for ob in ag.obligations:
        for party, reading in _subjects(ob):
            if not live:
                findings.append(_not_in_force(ctx, ob, party, reading, stage))
                continue
            findings.append(_evaluate_one(ctx, ob, party, reading))
    return _apply_conditions(ctx, findings)


def _subjects(ob: m.Obligation) -> list[tuple[str, m.Reading | None]]:
    if isinstance(ob, m.Inspection):  # the host must receive; the inspector must keep to the quota
        return [(ob.inspected, None), (ob.inspecting, None)]
    if isinstance(ob, m.Counted):
        return [(p, r) for p in ob.parties for r in ob.readings]
    return [(p, None) for p in ob.parties]


def _base(
    ctx: _Ctx,
    ob: m.Obligation,
    party: str,
    reading: m.Reading | None,
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


def _not_in_force(ctx: _Ctx, ob: m.Obligation, party: str, reading: m.Reading | None, stage: str) -> Finding:
    ag = ctx.ag
    why = {
        "proposed": f"{ag.title} is a proposal"
        + (f" by {ag.proposed_by}" if ag.proposed_by else "")
        + " and has not been agreed",
        "signed": f"{ag.title} was signed on {ag.signed} but has not entered into force",
        "expired": f"{ag.title} expired on {ag.expires}",
    }[stage]
    return _base(
        ctx,
        ob,
        party,
        reading,
        "not_applicable",
        f"Not in force on {ctx.at}: {why}."
        + (" Evaluate it with --hypothetical to see what it would find." if stage != "expired" else ""),
    )


def _evaluate_one(ctx: _Ctx, ob: m.Obligation, party: str, reading: m.Reading | None) -> Finding:
    if party not in ob.parties and not isinstance(ob, m.Inspection):
        return _base(ctx, ob, party, reading, "not_applicable", f"{party} is not bound by {ob.id}.")
    if isinstance(ob, m.Counted):
        assert reading is not None
        return _counted(ctx, ob, party, reading)
    if isinstance(ob, m.Capability):
        return _capability(ctx, ob, party)
    if isinstance(ob, m.Notify):
        return _notify(ctx, ob, party)
    if isinstance(ob, m.Exchange):
        return _exchange(ctx, ob, party)
    if isinstance(ob, m.Inspection):
        return _inspection(ctx, ob, party)
    raise AssertionError(f"unhandled obligation kind {ob.kind}")


# ------------------------------------------------------------------ limits, bans, zones


def _assumed(table: HoldingsTable, reading: m.Reading) -> HoldingsTable:
    for where, values in reading.assume:
        table = table.with_values(where.mask(table), values)
    return table


def _mask(
    ctx: _Ctx, ob: m.Counted, reading: m.Reading, party: str, table: HoldingsTable
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_] | None, npt.NDArray[np.bool_]]:
    """Rows counted for `party` under `reading`; (zone rules) rows at sites of unknown location;
    and rows the selector cannot decide because they lack an attribute it reads."""
    code = ctx.party_codes.get(party, -2)
    true, undecided = reading.select.mask3(table)
    mine = table.column("party") == code
    mask, undecided = true & mine, undecided & mine
    unknown = None
    if ob.kind == "zone":
        site_col = table.column("site")
        if ob.sites is not None:
            wanted = np.isin(site_col, np.array([table.code("site", s) for s in ob.sites], dtype=np.int32))
            mask &= wanted
            undecided &= wanted
        else:
            assert ob.zone is not None
            inside = _inside_by_site(ctx, ob.zone)
            sc = np.where(site_col >= 0, site_col, 0)
            known = (
                ctx.site_known[sc] & (site_col >= 0) if len(ctx.site_known) else np.zeros(len(site_col), bool)
            )
            unknown = mask & ~known
            in_zone = known & (inside[sc] if len(inside) else False)
            mask &= in_zone
            undecided &= in_zone | ~known
    return mask, unknown, undecided


def _missing(table: HoldingsTable, name: str) -> npt.NDArray[np.bool_]:
    """Rows with no value for attribute `name` (NaN numbers, -1 codes and flags)."""
    col = table.column(name)
    return np.asarray(np.isnan(col) if col.dtype.kind == "f" else col < 0, dtype=np.bool_)


def _inside_by_site(ctx: _Ctx, zone_id: str) -> npt.NDArray[np.bool_]:
    from detente import geo

    lonlat = ctx.site_lonlat
    if not len(lonlat):
        return np.zeros(0, dtype=np.bool_)
    ok = ~np.isnan(lonlat[:, 0])
    inside = np.zeros(len(lonlat), dtype=np.bool_)
    if ok.any():
        inside[ok] = geo.contains_points(ctx.ag.zones[zone_id].geometry, lonlat[ok, 0], lonlat[ok, 1])
    return inside


def _weights(
    table: HoldingsTable, reading: m.Reading
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per-row contribution to the value, and rows whose contribution is unknown."""
    count = table.count.astype(np.float64)
    if reading.sum is None:
        return count, np.zeros(len(table), dtype=np.bool_)
    per = table.column(reading.sum).astype(np.float64)
    for where, counts_as in reading.counting:
        per = np.where(where.mask(table), float(counts_as), per)
    missing = np.isnan(per)
    return np.where(missing, 0.0, per) * count, missing


def _groups(
    ctx: _Ctx,
    table: HoldingsTable,
    rows: npt.NDArray[np.bool_],
    w: npt.NDArray[np.float64],
    by: Sequence[str],
    limit: int = TOP,
) -> list[dict[str, Any]]:
    """Sum of `w` over `rows`, grouped by the given columns, largest first (the first `limit`).

    Each column is turned into small integer codes and the codes into one mixed-radix key, so
    grouping a million rows is a bincount, not a sort of row tuples; only the groups reported
    are decoded back into values.
    """
    idx = np.flatnonzero(rows)
    if not len(idx):
        return []
    key = np.zeros(len(idx), dtype=np.int64)
    radix: list[tuple[int, Any]] = []
    mult = 1
    for b in by:
        col = table.column(b)[idx]
        if col.dtype.kind == "f":
            uniq, codes = np.unique(col, return_inverse=True)
            card = len(uniq)
            decode: Any = ("num", uniq)
        else:
            codes = col.astype(np.int64) + 1  # missing (-1) becomes 0
            card = int(codes.max()) + 1
            decode = ("bool", None) if table.types.get(b) == "bool" else ("str", table.names(b))
        if mult > (1 << 62) // max(card, 1):
            raise AssertionError("grouping key overflow")  # not reachable with report-sized groupings
        key += codes.reshape(-1).astype(np.int64) * mult
        radix.append((card, decode))
        mult *= card
    weights = w[idx]
    if mult <= 4 * len(idx) + 4096:
        sums = np.bincount(key, weights=weights, minlength=mult)
        present = np.bincount(key, minlength=mult) > 0
        keys = np.flatnonzero(present)
        sums = sums[keys]
    else:
        keys, inv = np.unique(key, return_inverse=True)
        sums = np.bincount(inv.reshape(-1), weights=weights, minlength=len(keys))
    order = np.argsort(-sums, kind="stable")[:limit]
    out = []
    for g in order:
        k = int(keys[g])
        entry: dict[str, Any] = {}
        for b, (card, (how, table_of)) in zip(by, radix, strict=True):
            k, c = divmod(k, card)
            if how == "num":
                v = float(table_of[c])
                entry[b] = None if np.isnan(v) else _num(v)
            elif how == "bool":
                entry[b] = None if c == 0 else bool(c - 1)
            else:
                entry[b] = None if c == 0 else table_of[c - 1]
        entry["count"] = _num(float(sums[g]))
        out.append(entry)
    return out


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _counted(ctx: _Ctx, ob: m.Counted, party: str, reading: m.Reading) -> Finding:
    decl = ctx.state.declarations.get(party)
    if decl is None:
        return _base(
            ctx,
            ob,
            party,
            reading,
            "unverified",
            f"{party} has no declaration as of {ctx.at} in the log, so {ob.id} cannot be checked.",
        )
    if not decl.holdings:
        return _base(
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
            evidence=(_evidence_of(decl),),
        )
    table = _assumed(ctx.table, reading)
    mask, unknown, undecided = _mask(ctx, ob, reading, party, table)
    w, missing = _weights(table, reading)
    value = _num(float(w[mask].sum()))
    bound = reading.max if ob.kind == "limit" else 0
    unit = (reading.sum or "item") if ob.kind == "limit" else "item"
    sites = _groups(ctx, table, mask, w, ["site"])[:TOP]
    items = _groups(ctx, table, mask, w, _item_keys(table, reading))[:TOP]
    evidence = tuple(_evidence_of(d) for d in [decl])
    what = reading.select.text
    details: dict[str, Any] = {"selector": what, "reading": reading.text}
    if reading.assume:
        details["assumptions"] = [{"where": s.text, "set": dict(v)} for s, v in reading.assume]
    divergence = _divergence(ctx, ob, party, reading)
    if divergence:
        details["divergence"] = divergence

    gaps = int((mask & missing).sum())
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
        text += " " + " ".join(d["summary"] for d in divergence)
    n_undecided = int(table.count[undecided].sum()) if undecided.any() else 0
    if gaps or unlocated or n_undecided:
        status = "unverified" if status == "compliant" else status
        if n_undecided:
            lacking = sorted(n for n in reading.select.names
                             if n in table.columns and bool(_missing(table, n)[undecided].any()))
            top = _groups(ctx, table, undecided, table.count.astype(np.float64), ["site", "category"])[:3]
            text += (
                f" {n_undecided:,} {'item' if n_undecided == 1 else 'items'} cannot be decided: "
                f"{'it lacks' if n_undecided == 1 else 'they lack'} {', '.join(lacking) or 'an attribute'}"
                " the rule reads ("
                + ", ".join(f"{g['category']} at {g['site']} ({g['count']:,})" for g in top)
                + "), so the value leaves them out."
            )
            details["undecided"] = {"count": n_undecided, "lacking": lacking, "largest": top}
        if gaps:
            text += f" {gaps} matching holdings lack '{reading.sum}', so the total is a lower bound."
        if unlocated:
            text += (
                f" {unlocated} holdings are at sites with no declared location; the zone cannot be checked."
            )
    return _base(
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
        details=details,
    )


def _item_keys(table: HoldingsTable, reading: m.Reading, other: m.Reading | None = None) -> list[str]:
    keys = ["category"]
    names = reading.select.names | (other.select.names if other is not None else frozenset())
    for n in sorted(names - {"category", "party", "site"}):
        keys.append(n)
    if "system" in table.columns and "system" not in keys:
        keys.append("system")
    return keys


def _divergence(ctx: _Ctx, ob: m.Counted, party: str, reading: m.Reading) -> list[dict[str, Any]]:
    """What this reading counts that each other party's reading does not, and vice versa."""
    if not ob.interpreted:
        return []
    out = []
    mine_t = _assumed(ctx.table, reading)
    mine, _, _ = _mask(ctx, ob, reading, party, mine_t)
    w_mine, _ = _weights(mine_t, reading)
    for other in ob.readings:
        if other is reading:
            continue
        other_t = _assumed(ctx.table, other)
        theirs, _, _ = _mask(ctx, ob, other, party, other_t)
        w_theirs, _ = _weights(other_t, other)
        v_mine, v_theirs = float(w_mine[mine].sum()), float(w_theirs[theirs].sum())
        keys = [*_item_keys(mine_t, reading, other), "site"]  # what either reading looks at
        only_mine = _groups(ctx, mine_t, mine & ~theirs, w_mine, keys)
        only_theirs = _groups(ctx, other_t, theirs & ~mine, w_theirs, keys)
        diff = v_mine - v_theirs
        if diff == 0 and not only_mine and not only_theirs:
            continue

        def fmt(groups: list[dict[str, Any]]) -> str:
            parts = []
            for g in groups[:6]:
                attrs = ", ".join(f"{k} {v}" for k, v in g.items()
                                  if k not in ("count", "site", "category") and v is not None)
                what = f"{g['category']} ({attrs})" if attrs else g["category"]
                parts.append(f"{g['count']:,} {what} at {g['site']}")
            more = len(groups) - 6
            return "; ".join(parts) + (f"; and {more} more groups" if more > 0 else "")

        more = "more" if diff > 0 else "fewer"
        summary = f"{reading.by}'s reading counts {_num(abs(diff)):,} {more} than {other.by}'s"
        if only_mine:
            summary += f" (only {reading.by} counts: {fmt(only_mine)})"
        if only_theirs:
            summary += f" (only {other.by} counts: {fmt(only_theirs)})"
        out.append(
            {
                "versus": other.by,
                "this_value": _num(v_mine),
                "other_value": _num(v_theirs),
                "only_this": only_mine,
                "only_other": only_theirs,
                "summary": summary + ".",
            }
        )
    return out


# ------------------------------------------------------------------ capability


def _capability(ctx: _Ctx, ob: m.Capability, party: str) -> Finding:
    decl = ctx.state.declarations.get(party)
    if decl is None:
        return _base(ctx, ob, party, None, "unverified", f"{party} has no declaration as of {ctx.at}.")
    t = ctx.table
    assert ob.launcher is not None
    mask = ob.launcher.mask(t) & (t.column("party") == ctx.party_codes.get(party, -2))
    site_col = t.column("site")
    unlocated: npt.NDArray[np.bool_] | None = None
    if ob.sites is not None:
        mask &= np.isin(site_col, np.array([t.code("site", s) for s in ob.sites], dtype=np.int32))
        where = ", ".join(ob.sites)
    else:
        assert ob.zone is not None
        inside = _inside_by_site(ctx, ob.zone)
        sc = np.where(site_col >= 0, site_col, 0)
        known = ctx.site_known[sc] & (site_col >= 0) if len(ctx.site_known) else np.zeros(len(t), bool)
        unlocated = mask & ~known
        mask &= known & (inside[sc] if len(inside) else False)
        where = f"zone {ob.zone}"
    verified = _verified_configs(ctx, party)
    capable = np.zeros(len(t), dtype=np.bool_)
    basis: list[dict[str, Any]] = []
    evidence = [_evidence_of(decl)]
    lists = t.lists.get("can_launch")
    for row in np.flatnonzero(mask):
        site = t.value("site", int(row))
        cat = t.value("category", int(row))
        conf = verified.get((site, cat))
        if conf is not None:
            can = set(conf[0])
            how = f"verified by inspection report (log entry {conf[1].index})"
            evidence.append(_evidence_of(None, conf[1], f"inspection report at {site}"))
        elif ob.presumption == "capable":
            can = set(lists[row]) if lists is not None else set()
            how = "presumed from the category (no verified configuration)"
        else:
            can = set()
            how = "presumed incapable (no verified configuration)"
        hit = sorted(can & ob.banned_categories)
        capable[row] = bool(hit)
        basis.append(
            {
                "site": site,
                "launcher": cat,
                "count": int(t.count[row]),
                "can_launch": sorted(can),
                "banned": hit,
                "basis": how,
            }
        )
    value = int(t.count[capable].sum())
    total = int(t.count[mask].sum())
    n_unlocated = int(t.count[unlocated].sum()) if unlocated is not None else 0
    banned = ", ".join(sorted(ob.banned_categories)) or "nothing in the vocabulary"
    if total == 0:
        status: Status = "compliant"
        text = f"{party} declares no launchers matching `{ob.launcher.text}` at {where}."
    elif value:
        status = "violation"
        by_site: dict[str, int] = {}
        for b in basis:
            if b["banned"]:
                by_site[b["site"]] = by_site.get(b["site"], 0) + b["count"]
        presumed = sorted({b["site"] for b in basis if b["banned"] and b["basis"].startswith("presumed")})
        cleared = sorted({b["site"] for b in basis if not b["banned"] and b["basis"].startswith("verified")})
        text = (
            f"{value:,} of {total:,} launchers at {where} can fire a banned class ({banned}): "
            + ", ".join(f"{s} ({n})" for s, n in sorted(by_site.items()))
            + ". "
            + (
                "The rule presumes a launcher capable unless a verified configuration says otherwise, and "
                f"none has been verified by inspection at {', '.join(presumed)}."
                if presumed
                else "Inspection confirmed the capability."
            )
            + (f" Inspection verified the configuration at {', '.join(cleared)}: not capable."
               if cleared else "")
        )
    else:
        status = "compliant"
        text = (
            f"None of the {total:,} launchers at {where} can fire a banned class ({banned}); "
            + "; ".join(f"{b['site']}: {b['basis']}" for b in basis[:4])
            + "."
        )
    if n_unlocated:
        assert unlocated is not None
        status = "unverified" if status == "compliant" else status
        names = sorted({t.value("site", int(r)) for r in np.flatnonzero(unlocated)})
        text += (f" {n_unlocated:,} launchers are at sites with no declared location "
                 f"({', '.join(names[:5])}); whether they are in zone {ob.zone} cannot be checked.")
    sites = tuple({"site": s, "count": n} for s, n in _sum_by(basis, "site").items())
    return _base(
        ctx,
        ob,
        party,
        None,
        status,
        text,
        value=value,
        bound=0,
        unit="launcher",
        sites=sites,
        items=tuple(basis[:TOP]),
        evidence=tuple(evidence),
        details={"banned_categories": sorted(ob.banned_categories), "presumption": ob.presumption},
    )


def _sum_by(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[key]] = out.get(r[key], 0) + int(r["count"])
    return out


def _verified_configs(ctx: _Ctx, party: str) -> dict[tuple[str, str], tuple[list[str], Record]]:
    """(site, launcher category) -> (what it can launch, report), latest report wins.

    Only the other side can verify: a report counts if its author is another party to the
    agreement and, where the agreement has inspection regimes over `party`, one of their
    inspecting parties. A party cannot certify its own launchers."""
    regimes = {ob.inspecting for ob in ctx.ag.obligations
               if isinstance(ob, m.Inspection) and ob.inspected == party}
    inspectors = (regimes or set(ctx.ag.party_ids)) - {party}
    out: dict[tuple[str, str], tuple[list[str], Record]] = {}
    for rep in ctx.state.reports:
        if rep.record.author not in inspectors or (rep.inspected and rep.inspected != party):
            continue
        for c in rep.configurations:
            cat, can = c.get("category"), c.get("can_launch")
            if isinstance(cat, str) and isinstance(can, list) and all(isinstance(x, str) for x in can):
                out[(rep.site, cat)] = (list(can), rep.record)
    return out


# ------------------------------------------------------------------ notifications and exchanges


def _in_force_from(ag: m.Agreement) -> dt.datetime:
    d = ag.entry_into_force or ag.signed or ag.proposed_on or dt.date(1970, 1, 1)
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def _notify(ctx: _Ctx, ob: m.Notify, party: str) -> Finding:
    start = _in_force_from(ctx.ag)
    notes = [
        n
        for n in ctx.state.notifications
        if n.party == party and n.event == ob.event and n.event_time >= start
    ]
    undecided: list[Notification] = []
    if ob.select is not None:
        notes, undecided = _notified_items(ctx, ob.select, party, notes)
    late = []
    for n in notes:
        if ob.within_days is not None:
            delay = n.notice_time - n.event_time
            if delay > dt.timedelta(days=ob.within_days):
                late.append((n, f"{delay.days} days after the event (limit {ob.within_days})"))
        else:
            assert ob.advance_days is not None
            lead = n.event_time - n.notice_time
            if lead < dt.timedelta(days=ob.advance_days):
                late.append((n, f"{max(lead.days, 0)} days before the event (required {ob.advance_days})"))
    evidence = tuple(_evidence_of(None, n.record, f"{ob.event} notification") for n, _ in late) or tuple(
        _evidence_of(None, n.record, f"{ob.event} notification") for n in notes[-TOP:]
    )
    rule = (
        f"within {ob.within_days} days after"
        if ob.within_days is not None
        else f"at least {ob.advance_days} days before"
    )
    if late:
        text = (
            f"{len(late)} of {len(notes)} {ob.event} notifications by {party} came late (due {rule} the "
            "event): " + "; ".join(f"entry {n.record.index}: {why}" for n, why in late[:5]) + "."
        )
        return _base(
            ctx,
            ob,
            party,
            None,
            "violation",
            text,
            value=len(late),
            bound=0,
            unit="late notification",
            evidence=evidence,
        )
    head = (
        f"No {ob.event} notifications by {party} in the log (each is due {rule} the event)."
        if not notes
        else f"{len(notes)} {ob.event} notification{'s' if len(notes) != 1 else ''} by {party}, all on "
        f"time ({rule} the event)."
    )
    text = (
        head + " Events never notified cannot be seen in the log; inspections and successive "
        "declarations are what reveal them."
    )
    status: Status = "compliant"
    if undecided:
        status = "unverified"
        text += (f" {len(undecided)} {ob.event} notification(s) name no items the rule's selector "
                 f"`{ob.select.text if ob.select else ''}` can decide (entries "
                 f"{', '.join(str(n.record.index) for n in undecided[:5])}), so whether they fall "
                 "under it cannot be told.")
        evidence += tuple(_evidence_of(None, n.record, f"{ob.event} notification (undecided)")
                          for n in undecided[:TOP])
    return _base(
        ctx, ob, party, None, status, text, value=0, bound=0, unit="late notification", evidence=evidence
    )


def _notified_items(
    ctx: _Ctx, select: Selector, party: str, notes: list[Notification]
) -> tuple[list[Notification], list[Notification]]:
    """Split notifications into those whose `items` the rule's selector matches and those it
    cannot decide (no items, or items lacking what it reads); the rest are outside the rule."""
    ours: list[Notification] = []
    undecided: list[Notification] = []
    for n in notes:
        items = n.record.body.get("items")
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            undecided.append(n)
            continue
        rows = [{"party": party, "site": i.get("site"), "category": i.get("category"),
                 "count": i.get("count", 1) if isinstance(i.get("count", 1), int) else 1,
                 "attributes": i.get("attributes") if isinstance(i.get("attributes"), dict) else {}}
                for i in items]
        t = HoldingsTable.from_items(rows, ctx.ag.attributes, ctx.ag.categories, {})
        true, unknown = select.mask3(t)
        if bool(true.any()):
            ours.append(n)
        elif bool(unknown.any()):
            undecided.append(n)
    return ours, undecided


def _cutoffs(ob: m.Exchange, start: dt.date, end: dt.date) -> list[dt.date]:
    out = []
    for year in range(start.year, end.year + 1):
        for mo, day in ob.as_of:
            try:
                d = dt.date(year, mo, day)
            except ValueError:
                d = dt.date(year, mo, 28)
            if start <= d <= end:
                out.append(d)
    return sorted(out)


def _exchange(ctx: _Ctx, ob: m.Exchange, party: str) -> Finding:
    """The latest exchange due, judged in full; every earlier one is checked too (missing or late
    is still a breach) and named when it fails, back to when the log began."""
    f = _latest_exchange(ctx, ob, party)
    records = ctx.state.history.records
    if not records or f.status == "not_applicable":
        return f
    began = min(r.signed_at for r in records).date()
    start = _in_force_from(ctx.ag).date()
    decls = [d for d in ctx.state.history.declarations if d.party == party]
    logged = {d.as_of for d in decls}
    # judged: every cut-off due before the date evaluated whose due date falls after the log
    # began, or whose data is in the log anyway (its lateness is on the record)
    due = [c for c in _cutoffs(ob, start, ctx.state.at)
           if c + dt.timedelta(days=ob.due_days) < ctx.state.at
           and (began <= c + dt.timedelta(days=ob.due_days) or c in logged)]
    earlier: list[tuple[str, Declaration | None]] = []
    for c in due[:-1]:
        match = [d for d in decls if d.as_of == c]
        by = c + dt.timedelta(days=ob.due_days)
        if not match:
            earlier.append((f"the data as of {c} (due by {by}) is not in the log", None))
        else:
            first = min(match, key=lambda d: d.record.index)
            late = (first.record.signed_at.date() - by).days
            if late > 0:
                earlier.append((f"the data as of {c} was signed {late} days late", first))
    if not earlier:
        return f
    text = f.explanation + " Earlier: " + "; ".join(t for t, _ in earlier[-5:]) + "."
    ev = f.evidence + tuple(_evidence_of(d) for _, d in earlier[-5:] if d is not None)
    return replace(f, status="violation", explanation=text, evidence=ev,
                   legal=f.legal or legal_consequence(ctx.ag))


def _latest_exchange(ctx: _Ctx, ob: m.Exchange, party: str) -> Finding:
    start = _in_force_from(ctx.ag).date()
    at = ctx.state.at
    due_by = [c for c in _cutoffs(ob, start, at) if c + dt.timedelta(days=ob.due_days) < at]
    pending = [c for c in _cutoffs(ob, start, at) if c + dt.timedelta(days=ob.due_days) >= at]
    decls = [d for d in ctx.state.history.declarations if d.party == party]
    if not due_by:
        return _base(
            ctx,
            ob,
            party,
            None,
            "compliant",
            f"No data exchange was yet due from {party} on {ctx.at}.",
            value=0,
            bound=0,
            unit="day late",
        )
    c = due_by[-1]
    due = c + dt.timedelta(days=ob.due_days)
    match = [d for d in decls if d.as_of == c]
    note = (
        f" The exchange as of {pending[-1]} is due by {pending[-1] + dt.timedelta(days=ob.due_days)}."
        if pending
        else ""
    )
    if not match:
        return _base(
            ctx,
            ob,
            party,
            None,
            "violation",
            f"{party}'s data as of {c} was due in the log by {due}; none is recorded.{note}",
            value=None,
            bound=0,
            unit="day late",
        )
    first = min(match, key=lambda d: d.record.index)
    late = (first.record.signed_at.date() - due).days
    ev = (_evidence_of(first),)
    if late > 0:
        return _base(
            ctx,
            ob,
            party,
            None,
            "violation",
            f"{party}'s data as of {c} was due by {due} and was signed {late} days late, on "
            f"{first.record.signed_at.date()}.{note}",
            value=late,
            bound=0,
            unit="day late",
            evidence=ev,
        )
    return _base(
        ctx,
        ob,
        party,
        None,
        "compliant",
        f"{party}'s data as of {c} is in the log (entry {first.record.index}, signed "
        f"{first.record.signed_at.date()}, due by {due}).{note}",
        value=0,
        bound=0,
        unit="day late",
        evidence=ev,
    )


# ------------------------------------------------------------------ inspections


def _period_start(at: dt.date, per: str) -> dt.date:
    return period_start(at, per)


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _inspection(ctx: _Ctx, ob: m.Inspection, party: str) -> Finding:
    """Two findings per regime: the inspected party's (receiving inspections: a refusal recorded in
    the log is a violation) and the inspecting party's (keeping to the quota). The inspection
    workflow adds requests, draws, refusals and reports to the log."""
    start = _period_start(ctx.state.at, ob.quota_per)
    used = [
        r
        for r in ctx.state.requests
        if r.author == ob.inspecting and r.body.get("obligation") == ob.id and r.signed_at.date() >= start
    ]
    ev = tuple(_evidence_of(None, r, "inspection request") for r in used[:TOP])
    pool = ", ".join(ob.sites) if ob.sites else "sites of kind " + ", ".join(ob.site_kinds or ())
    regime = (
        f"{ob.inspecting} may inspect {ob.inspected} up to {_times(ob.quota_count)} per {ob.quota_per} "
        f"({' or '.join(ob.selections)} selection, {ob.notice_hours} hours' notice; pool: {pool})"
    )
    details = {"inspecting": ob.inspecting, "inspected": ob.inspected, "selection": list(ob.selections),
               "notice_hours": ob.notice_hours}
    if party == ob.inspecting:
        over = len(used) - ob.quota_count
        text = f"{regime}; {ob.inspecting} has requested {len(used)} since {start}."
        status: Status = "compliant"
        if over > 0:
            status = "violation"
            text += f" That is {over} over the quota."
        return _base(ctx, ob, party, None, status, text, value=len(used), bound=ob.quota_count,
                     unit="inspection", evidence=ev, details=details)
    end = _end_of_day(ctx.state.at)
    cases = [c for c in ctx.state.inspections if c.agreement == ctx.ag.id and c.obligation == ob.id]
    refused = [r for r in ctx.state.history.records
               if r.kind == "inspection-refusal" and r.author == ob.inspected
               and (r.body.get("obligation") == ob.id
                    or any(c.refusal is not None and c.refusal.index == r.index for c in cases))
               and start <= r.signed_at.date() and r.signed_at <= end]
    refused += [_as_record(c.default) for c in cases
                if c.default is not None and c.default.body.get("party") == ob.inspected
                and start <= c.default.signed_at.date() and c.default.signed_at <= end]
    checked = [_accuracy(c, end) for c in cases if c.report is not None and c.report.signed_at <= end]
    details["inspections"] = [a for a, _ in checked]
    problems: list[str] = []
    status = "compliant"
    evidence = [] if refused else list(ev)  # a refusal is the evidence; requests are context
    if refused:
        status = "violation"
        problems.append(f"{ob.inspected} refused or defaulted on {len(refused)} of {len(used)} "
                        f"requested since {start}")
        evidence += [_evidence_of(None, r, "refusal" if r.kind == "inspection-refusal" else
                                  "default in the draw") for r in refused[:TOP]]
    for acc, recs in checked:
        evidence += [_evidence_of(None, r, role) for r, role in recs]
        if acc["discrepancies"]:
            status = "violation"
            problems.append(f"inspection {acc['inspection']} at {acc['site']}: "
                            + "; ".join(acc["discrepancies"]))
        elif not acc["opened"]:
            if status == "compliant":
                status = "unverified"
            problems.append(f"inspection {acc['inspection']} at {acc['site']}: {ob.inspected} opened "
                            "no declared records for the site, so the team's counts cannot be compared")
        for amb in acc["ambiguities"]:
            problems.append(f"ambiguity recorded by {amb['by']} on {amb['subject']}: {amb['text']}")
    matched = [a["inspection"] for a, _ in checked if a["opened"] and not a["discrepancies"]]
    text = f"{regime}; {len(used)} requested since {start}"
    text += ", none refused on the record" if not refused else ""
    if matched:
        text += f"; found as declared at {', '.join(matched)}"
    text += "." if not problems else ". " + ". ".join(p.rstrip(".") for p in problems) + "."
    return _base(ctx, ob, party, None, status, text,
                 value=len(refused) + sum(1 for a, _ in checked if a["discrepancies"]), bound=0,
                 unit="refused or discrepant inspection", evidence=tuple(evidence[: 3 * TOP]),
                 details=details)


def _as_record(step: Step) -> Record:
    return Record(step.index, step.kind, step.author, 0, step.signed_at, step.body)


def _accuracy(case: Case, end: dt.datetime) -> tuple[dict[str, Any], list[tuple[Record, str]]]:
    """One report against the records the host opened for its site: counts per category (only
    categories the team counted, plus anything found that was not declared), and identifiers
    where the team recorded them. An opening cannot prove the host opened every record of the
    site; the team's count is what catches a withheld one (it shows as undeclared)."""
    report = case.report
    assert report is not None
    openings = [(st, recs) for st, recs in case.openings if st.signed_at <= end]
    opened = [r for _, recs in openings for r in recs]
    declared: dict[str, int] = {}
    declared_ids: dict[str, set[str]] = {}
    for r in opened:
        cat = str(r.get("category"))
        declared[cat] = declared.get(cat, 0) + int(r.get("count", 1))
        declared_ids.setdefault(cat, set()).update(str(x) for x in r.get("identifiers") or [])
    found: dict[str, int] = {}
    seen_ids: dict[str, set[str]] = {}
    for item in report.body.get("found", []):
        cat = str(item["category"])
        found[cat] = found.get(cat, 0) + int(item["count"])
        if "identifiers" in item:
            seen_ids.setdefault(cat, set()).update(item["identifiers"])
    discrepancies = []
    if opened:
        for cat in sorted(found):
            if found[cat] != declared.get(cat, 0):
                discrepancies.append(f"{cat}: found {found[cat]}, declared {declared.get(cat, 0)}")
            extra = sorted(seen_ids.get(cat, set()) - declared_ids.get(cat, set()))
            missing = (sorted(declared_ids.get(cat, set()) - seen_ids.get(cat, set()))
                       if cat in seen_ids else [])
            if extra:
                discrepancies.append(f"{cat}: identifiers seen but not declared: {', '.join(extra[:5])}")
            if missing:
                discrepancies.append(f"{cat}: declared identifiers not seen: {', '.join(missing[:5])}")
    ambiguities = [{"by": a.author, "subject": a.body.get("subject"), "text": a.body.get("text"),
                    "index": a.index} for a in case.ambiguities if a.signed_at <= end]
    recs = [(_as_record(report), f"inspection report on {case.site}")]
    recs += [(_as_record(st), f"opened declaration records at {case.site}") for st, _ in openings]
    if case.countersign is not None and case.countersign.signed_at <= end:
        recs.append((_as_record(case.countersign), "escort's countersignature"))
    recs += [(_as_record(a), "ambiguity") for a in case.ambiguities if a.signed_at <= end]
    summary = {
        "inspection": case.id, "site": case.site, "method": case.method, "report": report.index,
        "countersigned": case.countersign is not None and case.countersign.signed_at <= end,
        "opened": len(opened), "declared": declared, "found": found,
        "discrepancies": discrepancies, "ambiguities": ambiguities,
    }
    return summary, recs


def _end_of_day(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=dt.UTC)


# ------------------------------------------------------------------ conditions


def _apply_conditions(ctx: _Ctx, findings: list[Finding]) -> list[Finding]:
    by_key: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        by_key.setdefault((f.obligation, f.party), []).append(f)
    out = []
    for f in findings:
        ob = ctx.ag.obligation(f.obligation)
        if f.status == "not_applicable" or not ob.conditions:
            out.append(f)
            continue
        reason = None
        for c in ob.conditions:
            if c.after is not None and ctx.state.at < c.after:
                reason = f"applies only from {c.after}"
            elif c.before is not None and ctx.state.at >= c.before:
                reason = f"applied only until {c.before}"
            elif c.reciprocal is not None:
                counter = ctx.ag.obligation(c.reciprocal)
                for other in (
                    counter.parties if not isinstance(counter, m.Inspection) else (counter.inspected,)
                ):
                    if other == f.party:
                        continue
                    theirs = by_key.get((c.reciprocal, other), [])
                    # the invoking party judges the counterpart by its own reading where it has one
                    pick = (
                        [g for g in theirs if g.interpretation == f.party]
                        or [g for g in theirs if g.interpretation in (None, other)]
                        or theirs
                    )
                    if any(g.status == "violation" for g in pick):
                        reason = (
                            f"suspended: it binds {f.party} only while {other} complies with "
                            f"{c.reciprocal}, and {other} is in violation of it"
                        )
            if reason:
                break
        if reason:
            out.append(
                replace(
                    f,
                    status="not_applicable",
                    legal=None,
                    explanation=f"Not applicable to {f.party}: {reason}. (Unconditioned: {f.status} — "
                    f"{f.explanation})",
                )
            )
        else:
            out.append(f)
    return out
