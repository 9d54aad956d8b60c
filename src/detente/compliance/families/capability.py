"""Capability rules: what a launcher can fire, not what sits on it today.

A launcher is presumed capable of what its category can launch (or presumed incapable, as the
rule says) unless the other side verified its configuration by inspection.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from detente.agreement.model import Capability, Inspection, Obligation, Reading
from detente.compliance.columns import TOP
from detente.compliance.context import Context, evidence_of, finding, inside_by_site
from detente.compliance.details import CapabilityDetails
from detente.compliance.findings import Finding, Status
from detente.model.records import LoggedRecord

__all__ = ["evaluate_capability"]


def evaluate_capability(ctx: Context, ob: Obligation, party: str, reading: Reading | None) -> Finding:
    assert isinstance(ob, Capability)
    decl = ctx.state.declarations.get(party)
    if decl is None:
        return finding(ctx, ob, party, None, "unverified", f"{party} has no declaration as of {ctx.at}.")
    if not decl.itemised:
        return finding(ctx, ob, party, None, "unverified",
                       f"{party}'s declaration as of {decl.as_of} gives "
                       + ("committed records not disclosed to this workspace" if decl.sealed else
                          "aggregates only")
                       + f", not the launchers {ob.id} looks at.", evidence=(evidence_of(decl),))
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
        inside = inside_by_site(ctx, ob.zone)
        sc = np.where(site_col >= 0, site_col, 0)
        known = ctx.site_known[sc] & (site_col >= 0) if len(ctx.site_known) else np.zeros(len(t), bool)
        unlocated = mask & ~known
        mask &= known & (inside[sc] if len(inside) else False)
        where = f"zone {ob.zone}"
    verified = _verified_configs(ctx, party)
    capable = np.zeros(len(t), dtype=np.bool_)
    basis: list[dict[str, Any]] = []
    evidence = [evidence_of(decl)]
    lists = t.lists.get("can_launch")
    for row in np.flatnonzero(mask):
        site = t.value("site", int(row))
        cat = t.value("category", int(row))
        conf = verified.get((site, cat))
        if conf is not None:
            can = set(conf[0])
            how = f"verified by inspection report (log entry {conf[1].index})"
            evidence.append(evidence_of(None, conf[1], f"inspection report at {site}"))
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
    return finding(
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
        details=CapabilityDetails(tuple(sorted(ob.banned_categories)), ob.presumption),
    )


def _sum_by(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[key]] = out.get(r[key], 0) + int(r["count"])
    return out


def _verified_configs(ctx: Context, party: str) -> dict[tuple[str, str], tuple[list[str], LoggedRecord]]:
    """(site, launcher category) -> (what it can launch, report), latest report wins.

    Only the other side can verify: a report counts if its author is another party to the
    agreement and, where the agreement has inspection regimes over `party`, one of their
    inspecting parties. A party cannot certify its own launchers."""
    regimes = {ob.inspecting for ob in ctx.ag.obligations
               if isinstance(ob, Inspection) and ob.inspected == party}
    inspectors = (regimes or set(ctx.ag.party_ids)) - {party}
    out: dict[tuple[str, str], tuple[list[str], LoggedRecord]] = {}
    for rep in ctx.state.reports:
        if rep.record.author not in inspectors or (rep.inspected and rep.inspected != party):
            continue
        for c in rep.configurations:
            cat, can = c.get("category"), c.get("can_launch")
            if isinstance(cat, str) and isinstance(can, list) and all(isinstance(x, str) for x in can):
                out[(rep.site, cat)] = (list(can), rep.record)
    return out
