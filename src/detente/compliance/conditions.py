"""Conditions (reciprocity, date windows), applied last, from the unconditioned findings, so
mutual conditions ("each side, while the other complies") have no cycle to resolve."""

from __future__ import annotations

from dataclasses import replace

from detente.agreement.model import Inspection
from detente.compliance.context import Context
from detente.compliance.findings import Finding

__all__ = ["apply_conditions"]


def apply_conditions(ctx: Context, findings: list[Finding]) -> list[Finding]:
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
                    counter.parties if not isinstance(counter, Inspection) else (counter.inspected,)
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
