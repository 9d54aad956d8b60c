"""Inspection regimes: the host must receive inspections, the inspector keep to its quota, and
what the team found must match what the host declared for the site.

The procedure (inspection.procedure) has already judged every step as the log accepted it; here
the findings read its cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from detente.agreement.model import Inspection, Obligation, Reading
from detente.compliance.columns import TOP
from detente.compliance.context import Context, end_of_day, evidence_of, finding, times
from detente.compliance.details import InspectionCheck, InspectionDetails
from detente.compliance.findings import Finding, Status
from detente.inspection.procedure import Case, period_name, period_start
from detente.model.records import LoggedRecord

__all__ = ["evaluate_inspection"]


def evaluate_inspection(ctx: Context, ob: Obligation, party: str, reading: Reading | None) -> Finding:
    """Two findings per regime: the inspected party's (receiving inspections: a refusal recorded in
    the log is a violation) and the inspecting party's (keeping to the quota). The inspection
    workflow adds requests, draws, refusals and reports to the log."""
    assert isinstance(ob, Inspection)
    start = period_start(ctx.state.at, ob.quota_per, ob.quota_anchor)
    used = [
        r
        for r in ctx.state.requests
        if r.author == ob.inspecting and r.body.get("obligation") == ob.id and r.signed_at.date() >= start
    ]
    ev = tuple(evidence_of(None, r, "inspection request") for r in used[:TOP])
    pool = ", ".join(ob.sites) if ob.sites else "sites of kind " + ", ".join(ob.site_kinds or ())
    regime = (
        f"{ob.inspecting} may inspect {ob.inspected} up to {times(ob.quota_count)} per {period_name(ob)} "
        f"({' or '.join(ob.selections)} selection, {ob.notice_hours} hours' notice; pool: {pool})"
    )
    details = InspectionDetails(ob.inspecting, ob.inspected, tuple(ob.selections), ob.notice_hours)
    if party == ob.inspecting:
        over = len(used) - ob.quota_count
        text = f"{regime}; {ob.inspecting} has requested {len(used)} since {start}."
        status: Status = "compliant"
        if over > 0:
            status = "violation"
            text += f" That is {over} over the quota."
        return finding(ctx, ob, party, None, status, text, value=len(used), bound=ob.quota_count,
                     unit="inspection", evidence=ev, details=details)
    end = end_of_day(ctx.state.at)
    cases = [c for c in ctx.state.inspections if c.agreement == ctx.ag.id and c.obligation == ob.id]
    refused = [r for r in ctx.state.history.records
               if r.kind == "inspection-refusal" and r.author == ob.inspected
               and (r.body.get("obligation") == ob.id
                    or any(c.refusal is not None and c.refusal.index == r.index for c in cases))
               and start <= r.signed_at.date() and r.signed_at <= end]
    refused += [c.default for c in cases
                if c.default is not None and c.default.body.get("party") == ob.inspected
                and start <= c.default.signed_at.date() and c.default.signed_at <= end]
    checked = [_accuracy(c, end) for c in cases if c.report is not None and c.report.signed_at <= end]
    details = replace(details, inspections=tuple(a for a, _ in checked))
    problems: list[str] = []
    status = "compliant"
    evidence = [] if refused else list(ev)  # a refusal is the evidence; requests are context
    if refused:
        status = "violation"
        problems.append(f"{ob.inspected} refused or defaulted on {len(refused)} of {len(used)} "
                        f"requested since {start}")
        evidence += [evidence_of(None, r, "refusal" if r.kind == "inspection-refusal" else
                                  "default in the draw") for r in refused[:TOP]]
    for acc, recs in checked:
        evidence += [evidence_of(None, r, role) for r, role in recs]
        if acc.discrepancies:
            status = "violation"
            problems.append(f"inspection {acc.inspection} at {acc.site}: " + "; ".join(acc.discrepancies))
        elif not acc.opened:
            if status == "compliant":
                status = "unverified"
            problems.append(f"inspection {acc.inspection} at {acc.site}: {ob.inspected} opened "
                            "no declared records for the site, so the team's counts cannot be compared")
        for amb in acc.ambiguities:
            problems.append(f"ambiguity recorded by {amb['by']} on {amb['subject']}: {amb['text']}")
    matched = [a.inspection for a, _ in checked if a.opened and not a.discrepancies]
    text = f"{regime}; {len(used)} requested since {start}"
    text += ", none refused on the record" if not refused else ""
    if matched:
        text += f"; found as declared at {', '.join(matched)}"
    text += "." if not problems else ". " + ". ".join(p.rstrip(".") for p in problems) + "."
    return finding(ctx, ob, party, None, status, text,
                 value=len(refused) + sum(1 for a, _ in checked if a.discrepancies), bound=0,
                 unit="refused or discrepant inspection", evidence=tuple(evidence[: 3 * TOP]),
                 details=details)


def _accuracy(case: Case, end: dt.datetime) -> tuple[InspectionCheck, list[tuple[LoggedRecord, str]]]:
    """One report against the records the host opened for its site.

    Counts are compared on what the team recorded: per category, and within a category per value
    of each attribute the team noted for it (type designation, configuration…), so two missile
    types are never lumped together; identifiers where the team recorded them. Only categories
    the team counted are compared, plus anything found that was not declared. An opening cannot
    prove the host opened every record of the site; the team's count is what catches a withheld
    one (it shows as undeclared)."""
    report = case.report
    assert report is not None
    openings = [(st, recs) for st, recs in case.openings if st.signed_at <= end]
    opened = [r for _, recs in openings for r in recs]
    items = [i for i in report.body.get("found", []) if isinstance(i, dict)]
    # the attributes the team recorded, per category: the grain of the comparison
    noted: dict[str, set[str]] = {}
    for item in items:
        attrs = item.get("attributes")
        noted.setdefault(str(item["category"]), set()).update(attrs if isinstance(attrs, dict) else ())

    def key(cat: str, attrs: Any) -> str:
        values = attrs if isinstance(attrs, dict) else {}
        names = sorted(noted.get(cat, ()))
        if not names:
            return cat
        return f"{cat} (" + ", ".join(f"{n} {values.get(n, '—')}" for n in names) + ")"

    declared: dict[str, int] = {}
    declared_ids: dict[str, set[str]] = {}
    for r in opened:
        cat = str(r.get("category"))
        k = key(cat, r.get("attributes"))
        declared[k] = declared.get(k, 0) + int(r.get("count", 1))
        declared_ids.setdefault(cat, set()).update(str(x) for x in r.get("identifiers") or [])
    found: dict[str, int] = {}
    seen_ids: dict[str, set[str]] = {}
    for item in items:
        cat = str(item["category"])
        k = key(cat, item.get("attributes"))
        found[k] = found.get(k, 0) + int(item["count"])
        if "identifiers" in item:
            seen_ids.setdefault(cat, set()).update(item["identifiers"])
    discrepancies = []
    if opened:
        counted = {str(i["category"]) for i in items}
        # a declared type the team looked for (its category, at the grain it recorded) and did not
        # find is found 0
        compared = sorted(set(found) | {k for k in declared if k.split(" (", 1)[0] in counted
                                        and noted.get(k.split(" (", 1)[0])})
        for k in compared:
            if found.get(k, 0) != declared.get(k, 0):
                discrepancies.append(f"{k}: found {found.get(k, 0)}, declared {declared.get(k, 0)}")
        for cat in sorted(counted):
            extra = sorted(seen_ids.get(cat, set()) - declared_ids.get(cat, set()))
            missing = (sorted(declared_ids.get(cat, set()) - seen_ids.get(cat, set()))
                       if cat in seen_ids else [])
            if extra:
                discrepancies.append(f"{cat}: identifiers seen but not declared: {', '.join(extra[:5])}")
            if missing:
                discrepancies.append(f"{cat}: declared identifiers not seen: {', '.join(missing[:5])}")
    ambiguities = [{"by": a.author, "subject": a.body.get("subject"), "text": a.body.get("text"),
                    "index": a.index} for a in case.ambiguities if a.signed_at <= end]
    recs = [(report, f"inspection report on {case.site}")]
    recs += [(st, f"opened declaration records at {case.site}") for st, _ in openings]
    if case.countersign is not None and case.countersign.signed_at <= end:
        recs.append((case.countersign, "escort's countersignature"))
    recs += [(a, "ambiguity") for a in case.ambiguities if a.signed_at <= end]
    summary = InspectionCheck(
        case.id, case.site, case.method, report.index,
        case.countersign is not None and case.countersign.signed_at <= end,
        len(opened), declared, found, tuple(discrepancies), tuple(ambiguities))
    return summary, recs
