"""What a proposal would change on the ground: its findings against the declared postures in the
log, evaluated as if it entered into force on the date given, per party, with what each breach
would require (move, convert or eliminate; or verify a configuration)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from detente.agreement.model import Agreement, Capability, Counted, Inspection, Obligation
from detente.compliance.check import check, read_disclosed
from detente.compliance.findings import Finding
from detente.workspace import Workspace


@dataclass(frozen=True)
class Impact:
    proposal: Agreement
    at: dt.date
    findings: tuple[Finding, ...]

    def by_party(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {p: [] for p in self.proposal.party_ids}
        for f in self.findings:
            if f.status not in ("violation", "unverified"):
                continue
            ob = self.proposal.obligation(f.obligation)
            out.setdefault(f.party, []).append({
                "obligation": f.obligation, "clause": f.clause, "reading": f.reading,
                "status": f.status, "value": f.value, "bound": f.bound, "unit": f.unit,
                "sites": list(f.sites), "items": list(f.items), "remedy": remedy(ob, f),
                "explanation": f.explanation,
            })
        return out

    def public(self) -> Impact:
        """The impact as anyone may see it: per party and rule, status, value and bound, and the
        remedy in aggregate terms; no sites or items (`Finding.public`)."""
        return Impact(self.proposal, self.at, tuple(f.public() for f in self.findings))

    def to_json(self) -> dict[str, Any]:
        return {"proposal": self.proposal.id, "title": self.proposal.title, "at": self.at.isoformat(),
                "checkpoint": self.findings[0].checkpoint if self.findings else None,
                "parties": self.by_party(),
                "clean": not any(self.by_party().values())}


def remedy(ob: Obligation, f: Finding) -> str:
    """What would bring the party into compliance, in the rule's own terms."""
    if f.status == "unverified":
        return "declare what the rule reads (holdings, their attributes, site locations) so it can be checked"
    over = (f.value or 0) - (f.bound or 0)
    if isinstance(ob, Counted) and ob.kind == "zone":
        where = f"zone {ob.zone}" if ob.zone else ", ".join(ob.sites or ())
        return f"move {over:,} {f.unit}(s) out of {where}, or eliminate them"
    if isinstance(ob, Counted) and ob.kind == "ban":
        return f"eliminate {over:,} {f.unit}(s), or convert them so they no longer match the ban"
    if isinstance(ob, Counted):
        return f"reduce by {over:,} {f.unit}(s): eliminate or convert"
    if isinstance(ob, Capability):
        return (f"convert {over:,} launcher(s) so they cannot fire the banned class, and have the "
                "configuration verified by inspection, or remove them")
    if isinstance(ob, Inspection):
        return "receive the inspections requested within the quota"
    return "comply with the obligation's terms"


def impact(proposal: Agreement, ws: Workspace, at: dt.date, *,
           enforced: Sequence[Agreement] | None = None) -> Impact:
    """`enforced`: the workspace's adopted agreements, if the caller has them loaded already."""
    result = check([proposal], ws.log(writable=False), at, hypothetical=True,
                   enforced=ws.agreements() if enforced is None else enforced,
                   disclosed=read_disclosed(ws.disclosed))
    return Impact(proposal, at, result.findings)
