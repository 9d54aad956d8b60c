"""The evaluator: (agreement, state, date) -> findings, each explaining itself.

A small engine: for each obligation and each party it binds (and each reading), the family
registered for the obligation's kind in `FAMILIES` makes the finding (in the manner of
jsonschema's keyword table); conditions are applied last (conditions.py). One module per
family, one signature: `(context, obligation, party, reading) -> Finding`.

Statuses:
  compliant       the rule holds on the record;
  violation       the record shows the rule broken (the party's own declaration, late notice...);
  unverified      the record cannot tell: no declaration, a missing attribute, a site without a
                  location, data not yet exchanged;
  not_applicable  not in force at that date, the party is not bound, or a condition is unmet.
"""

from __future__ import annotations

from collections.abc import Callable

from detente.agreement.model import Agreement, Counted, Inspection, Obligation, Reading
from detente.agreement.table import HoldingsTable
from detente.compliance.columns import build_table, table_key
from detente.compliance.conditions import apply_conditions
from detente.compliance.context import Context, finding, legal_consequence, make_context
from detente.compliance.families.capability import evaluate_capability
from detente.compliance.families.counted import evaluate_counted
from detente.compliance.families.inspection import evaluate_inspection
from detente.compliance.families.notice import evaluate_exchange, evaluate_notify
from detente.compliance.findings import Finding
from detente.compliance.projection import State

__all__ = ["FAMILIES", "Family", "build_table", "evaluate", "legal_consequence", "table_key"]

#: One obligation family: (context, obligation, party, reading or None) -> the finding.
Family = Callable[[Context, Obligation, str, Reading | None], Finding]


def evaluate(
    ag: Agreement,
    state: State,
    *,
    hypothetical: bool = False,
    table: HoldingsTable | None = None,
) -> list[Finding]:
    """Every obligation × bound party (× reading) at `state.at`.

    `hypothetical`: evaluate an agreement that is proposed or signed but not in force as if it
    were in force (what negotiators ask of a proposal); findings are marked so.
    """
    state = state.for_agreement(ag)
    stage = ag.stage_at(state.at)
    live = stage == "in-force" or (hypothetical and stage in ("proposed", "signed"))
    ctx = make_context(ag, state, table, hypothetical and stage in ("proposed", "signed"))
    findings: list[Finding] = []
    for ob in ag.obligations:
        for party, reading in _subjects(ob):
            if not live:
                findings.append(_not_in_force(ctx, ob, party, reading, stage))
                continue
            findings.append(_evaluate_one(ctx, ob, party, reading))
    return apply_conditions(ctx, findings)


def _subjects(ob: Obligation) -> list[tuple[str, Reading | None]]:
    if isinstance(ob, Inspection):  # the host must receive; the inspector must keep to the quota
        return [(ob.inspected, None), (ob.inspecting, None)]
    if isinstance(ob, Counted):
        return [(p, r) for p in ob.parties for r in ob.readings]
    return [(p, None) for p in ob.parties]


def _not_in_force(ctx: Context, ob: Obligation, party: str, reading: Reading | None, stage: str) -> Finding:
    ag = ctx.ag
    why = {
        "proposed": f"{ag.title} is a proposal"
        + (f" by {ag.proposed_by}" if ag.proposed_by else "")
        + " and has not been agreed",
        "signed": f"{ag.title} was signed on {ag.signed} but has not entered into force",
        "expired": f"{ag.title} expired on {ag.expires}",
    }[stage]
    return finding(
        ctx,
        ob,
        party,
        reading,
        "not_applicable",
        f"Not in force on {ctx.at}: {why}."
        + (" Evaluate it with --hypothetical to see what it would find." if stage != "expired" else ""),
    )


def _evaluate_one(ctx: Context, ob: Obligation, party: str, reading: Reading | None) -> Finding:
    if party not in ob.parties and not isinstance(ob, Inspection):
        return finding(ctx, ob, party, reading, "not_applicable", f"{party} is not bound by {ob.id}.")
    family = FAMILIES.get(ob.kind)
    if family is None:  # the loader admits only the kinds below; a new kind must register here
        raise AssertionError(f"no evaluator is registered for obligation kind {ob.kind!r}")
    return family(ctx, ob, party, reading)


#: The evaluator of each obligation kind (the agreement language's `kind:`), one module a family.
FAMILIES: dict[str, Family] = {
    "limit": evaluate_counted,
    "ban": evaluate_counted,
    "zone": evaluate_counted,
    "capability": evaluate_capability,
    "notify": evaluate_notify,
    "exchange": evaluate_exchange,
    "inspection": evaluate_inspection,
}
