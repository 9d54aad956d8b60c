"""Notifications (in time, before or after the event) and data exchanges (by their cut-offs).

What the log can show is whether what was notified came on time and whether each exchange is on
the record by its due date; events never notified are invisible here (inspections and successive
declarations reveal them), and the findings say so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from detente.agreement.model import Exchange, Notify, Obligation, Reading
from detente.agreement.selector import Selector
from detente.agreement.table import HoldingsTable
from detente.compliance.columns import TOP
from detente.compliance.context import Context, evidence_of, finding, in_force_from, legal_consequence
from detente.compliance.findings import Finding, Status
from detente.compliance.projection import Declaration, Notification

__all__ = ["evaluate_exchange", "evaluate_notify"]


def evaluate_notify(ctx: Context, ob: Obligation, party: str, reading: Reading | None) -> Finding:
    assert isinstance(ob, Notify)
    start = in_force_from(ctx.ag)
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
    evidence = tuple(evidence_of(None, n.record, f"{ob.event} notification") for n, _ in late) or tuple(
        evidence_of(None, n.record, f"{ob.event} notification") for n in notes[-TOP:]
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
        return finding(
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
        evidence += tuple(evidence_of(None, n.record, f"{ob.event} notification (undecided)")
                          for n in undecided[:TOP])
    return finding(
        ctx, ob, party, None, status, text, value=0, bound=0, unit="late notification", evidence=evidence
    )


def _notified_items(
    ctx: Context, select: Selector, party: str, notes: list[Notification]
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


def _cutoffs(ob: Exchange, start: dt.date, end: dt.date) -> list[dt.date]:
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


def evaluate_exchange(ctx: Context, ob: Obligation, party: str, reading: Reading | None) -> Finding:
    """The latest exchange due, judged in full; every earlier one is checked too (missing or late
    is still a breach) and named when it fails, back to when the log began."""
    assert isinstance(ob, Exchange)
    f = _latest_exchange(ctx, ob, party)
    records = ctx.state.history.records
    if not records or f.status == "not_applicable":
        return f
    began = min(r.signed_at for r in records).date()
    start = in_force_from(ctx.ag).date()
    decls = [d for d in ctx.state.history.declarations if d.party == party and d.concerns(ctx.ag)]
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
    ev = f.evidence + tuple(evidence_of(d) for _, d in earlier[-5:] if d is not None)
    return replace(f, status="violation", explanation=text, evidence=ev,
                   legal=f.legal or legal_consequence(ctx.ag))


def _latest_exchange(ctx: Context, ob: Exchange, party: str) -> Finding:
    start = in_force_from(ctx.ag).date()
    at = ctx.state.at
    due_by = [c for c in _cutoffs(ob, start, at) if c + dt.timedelta(days=ob.due_days) < at]
    pending = [c for c in _cutoffs(ob, start, at) if c + dt.timedelta(days=ob.due_days) >= at]
    decls = [d for d in ctx.state.history.declarations if d.party == party and d.concerns(ctx.ag)]
    if not due_by:
        return finding(
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
        return finding(
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
    ev = (evidence_of(first),)
    if late > 0:
        return finding(
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
    return finding(
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
