"""The inspection procedure as a projection of the log: who may take which step, and when.

One class, `Procedure`, folds logged records (in log order) into the state of every inspection,
and judges a candidate step against that state. It is part of the one projection of the log
(`compliance.projection.Projection`): the log's content rule (`desk.ProcedureRule`) runs it inside
the write transaction, so the order is enforced where it becomes final; the evaluator and `detente
inspect status` run the same code over the same records, so what the log accepted and what the
findings say can never disagree.

The steps, each a signed record whose body names the inspection:

    inspection-request      inspecting party: agreement, obligation, method, site (unless drawn), arrival
    inspection-commit       either party, joint-random only: SHA-256 commitment to a secret value
    inspection-reveal       either party, after both commits: the value
    inspection-default      either party, after a deadline: the other failed to commit or reveal
    inspection-opening      inspected party: its committed declaration records for the selected site
    inspection-report       inspecting party's team leader: what was found at the selected site
    inspection-countersign  inspected party's escort: a signature over the report envelope
    inspection-ambiguity    either party, after the report: a point the report leaves in dispute
    inspection-refusal      inspected party: the inspection is refused

Pure: no I/O, no clock. Times are the records' own `signed_at` (checked against the log's clock
at the door, within its tolerance).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from detente.agreement.model import Agreement, Inspection
from detente.codec import unb64
from detente.commitment import Commitment, Opening, verify_opening
from detente.envelope.keys import Verifier
from detente.envelope.record import envelope_of
from detente.errors import DetenteError, ProofError, RecordRefused
from detente.inspection import draw
from detente.model.parties import Registry
from detente.model.records import LoggedRecord, parse_time

STEP_KINDS = (
    "inspection-request", "inspection-commit", "inspection-reveal", "inspection-default",
    "inspection-opening", "inspection-report", "inspection-countersign", "inspection-ambiguity",
    "inspection-refusal",
)
METHODS = ("challenge", "joint-random", "unilateral")
#: How long each party has to commit (after the request) and to reveal (after the second commit).
DEFAULT_REVEAL_HOURS = 24

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


class StepRefused(RecordRefused):
    """An inspection step out of order, out of bounds, or by the wrong party."""


#: The length of each quota period, in months.
PERIOD_MONTHS = {"year": 12, "half-year": 6, "quarter": 3, "month": 1}


def _add_months(d: dt.date, months: int) -> dt.date:
    """`d` moved by `months` (negative: back), the day clamped to the month's last day."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))


#: Calendar periods are the ones anchored on any 1 January.
_CALENDAR = dt.date(2000, 1, 1)


def period_bounds(at: dt.date, per: str, anchor: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of the quota period holding `at`.

    Calendar periods (`anchor` None): the year, half-year, quarter or month. Anchored periods run
    from `anchor` (entry into force: treaty years) in steps of the period's length, the k-th
    starting on `anchor` moved by k periods; a date before the anchor falls in a period before it.
    """
    months = PERIOD_MONTHS[per]
    base = anchor or _CALENDAR
    k = ((at.year - base.year) * 12 + at.month - base.month) // months
    while _add_months(base, k * months) > at:  # the anchor's day of the month is later than at's
        k -= 1
    while _add_months(base, (k + 1) * months) <= at:
        k += 1
    return _add_months(base, k * months), _add_months(base, (k + 1) * months) - dt.timedelta(days=1)


def period_start(at: dt.date, per: str, anchor: dt.date | None = None) -> dt.date:
    return period_bounds(at, per, anchor)[0]


def period_name(ob: Inspection) -> str:
    """'year', or 'year counted from 1988-06-01' for anchored (treaty) periods."""
    return ob.quota_per if ob.quota_anchor is None else f"{ob.quota_per} counted from {ob.quota_anchor}"


@dataclass(frozen=True)
class DeclaredCommitment:
    """A committed declaration in the log: what an inspected party must open against."""

    index: int
    party: str
    signed_at: dt.datetime
    as_of: str
    commitment: Commitment


@dataclass
class Case:
    """One inspection, from request to report."""

    id: str
    agreement: str
    obligation: str
    inspecting: str
    inspected: str
    method: str
    request: LoggedRecord
    arrival: dt.datetime
    pool: draw.Pool
    reveal_hours: int
    site: str | None = None  # named in the request, or drawn
    commits: dict[str, tuple[bytes, LoggedRecord]] = field(default_factory=dict)
    reveals: dict[str, tuple[bytes, LoggedRecord]] = field(default_factory=dict)
    seed: bytes | None = None
    default: LoggedRecord | None = None
    refusal: LoggedRecord | None = None
    declaration: DeclaredCommitment | None = None  # the one the host must open against
    openings: list[tuple[LoggedRecord, list[dict[str, Any]]]] = field(default_factory=list)
    report: LoggedRecord | None = None
    countersign: LoggedRecord | None = None
    ambiguities: list[LoggedRecord] = field(default_factory=list)

    @property
    def parties(self) -> tuple[str, str]:
        return (self.inspecting, self.inspected)

    @property
    def status(self) -> str:
        if self.refusal is not None:
            return "refused"
        if self.default is not None:
            return "defaulted"
        if self.countersign is not None:
            return "countersigned"
        if self.report is not None:
            return "reported"
        if self.openings:
            return "opened"
        if self.site is not None:
            return "selected"
        return "drawing" if self.commits else "requested"

    @property
    def opened(self) -> list[dict[str, Any]]:
        return [r for _, recs in self.openings for r in recs]

    def commit_deadline(self) -> dt.datetime:
        return self.request.signed_at + dt.timedelta(hours=self.reveal_hours)

    def reveal_deadline(self) -> dt.datetime | None:
        if len(self.commits) < 2:
            return None
        last = max(s.signed_at for _, s in self.commits.values())
        return last + dt.timedelta(hours=self.reveal_hours)

    def to_json(self) -> dict[str, Any]:
        return {
            "inspection": self.id,
            "agreement": self.agreement,
            "obligation": self.obligation,
            "inspecting": self.inspecting,
            "inspected": self.inspected,
            "method": self.method,
            "status": self.status,
            "requested": {"index": self.request.index, "signed_at": _t(self.request.signed_at)},
            "arrival": _t(self.arrival),
            "pool": list(self.pool.sites),
            "site": self.site,
            "seed": self.seed.hex() if self.seed is not None else None,
            "commits": {p: s.index for p, (_, s) in sorted(self.commits.items())},
            "reveals": {p: s.index for p, (_, s) in sorted(self.reveals.items())},
            "declaration": self.declaration.index if self.declaration else None,
            "openings": [s.index for s, _ in self.openings],
            "opened_records": len(self.opened),
            "report": self.report.index if self.report else None,
            "countersign": self.countersign.index if self.countersign else None,
            "ambiguities": [s.index for s in self.ambiguities],
            "refusal": self.refusal.index if self.refusal else None,
            "default": ({"index": self.default.index, "party": self.default.body.get("party")}
                        if self.default else None),
        }


def _t(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _refuse(code: str, message: str) -> StepRefused:
    return StepRefused(message, code=code)


class Procedure:
    """Every inspection's state, folded from the log; `judge` says whether a step may come next.

    `agreements` are the ones the log enforces (the workspace's adopted agreements), by id;
    `registry` gives the keys a countersignature is checked against.
    """

    def __init__(self, agreements: Mapping[str, Agreement], registry: Registry | None) -> None:
        self.agreements = dict(agreements)
        self.registry = registry
        self.cases: dict[str, Case] = {}
        self.declarations: dict[str, list[DeclaredCommitment]] = {}
        #: Steps in the log the procedure did not accept (written without the rule): index -> why.
        self.void: dict[int, str] = {}

    # -- folding ------------------------------------------------------------------------------

    def observe(self, step: LoggedRecord) -> None:
        """Fold a logged inspection step in. A step that breaks the procedure (it can only be in
        the log if someone appended without the rule) changes nothing and is listed in `void`."""
        if step.kind not in STEP_KINDS:
            return
        try:
            self._judge(step, apply=True)
        except StepRefused as exc:
            self.void[step.index] = f"{exc.code}: {exc.message}"
        except (ValueError, TypeError, KeyError, DetenteError) as exc:
            self.void[step.index] = f"malformed: {exc}"

    def judge(self, step: LoggedRecord) -> StepRefused | None:
        """None if `step` may be appended next; else the refusal, with its reason."""
        if step.kind not in STEP_KINDS:
            return None
        try:
            self._judge(step, apply=False)
        except StepRefused as exc:
            return exc
        except (ValueError, TypeError, KeyError, DetenteError) as exc:
            return _refuse("malformed", f"{step.kind} body: {exc}")
        return None

    def declared(self, declaration: DeclaredCommitment) -> None:
        """A committed declaration was logged (the projection reads it once and tells us)."""
        self.declarations.setdefault(declaration.party, []).append(declaration)

    # -- judging ------------------------------------------------------------------------------

    def _judge(self, step: LoggedRecord, *, apply: bool) -> None:
        body = step.body
        if not isinstance(body, Mapping):
            raise _refuse("malformed", f"{step.kind} body must be a JSON object")
        iid = body.get("inspection")
        if not isinstance(iid, str) or not _ID.match(iid):
            raise _refuse("malformed", f"{step.kind} must name its inspection: 'inspection' is an id of "
                          "1–64 letters, digits, '.', '_' or '-'")
        if step.kind == "inspection-request":
            self._request(step, iid, apply)
            return
        case = self.cases.get(iid)
        if case is None:
            raise _refuse("no-request", f"there is no inspection {iid!r} in the log: every step "
                          "follows a request by the inspecting party (`detente inspect request`)")
        if step.author not in case.parties:
            raise _refuse("not-a-party", f"{step.author} is neither the inspecting ({case.inspecting}) "
                          f"nor the inspected party ({case.inspected}) of inspection {iid}")
        if case.refusal is not None and step.kind != "inspection-ambiguity":
            raise _refuse("closed", f"inspection {iid} was refused by {case.inspected} (entry "
                          f"{case.refusal.index}); it takes no further steps")
        if case.default is not None and step.kind != "inspection-ambiguity":
            raise _refuse("closed", f"inspection {iid} ended when {case.default.body.get('party')} "
                          f"failed to take part in the draw (entry {case.default.index})")
        handler: Callable[[Case, LoggedRecord, bool], None] = getattr(self, "_" + step.kind.split("-", 1)[1])
        handler(case, step, apply)

    def _only(self, case: Case, step: LoggedRecord, party: str, what: str) -> None:
        if step.author != party:
            raise _refuse("wrong-party", f"only {party} ({what}) may sign the {step.kind} of inspection "
                          f"{case.id}, not {step.author}")

    def _fields(self, step: LoggedRecord, required: Mapping[str, type | tuple[type, ...]],
                optional: Mapping[str, type | tuple[type, ...]] = {}) -> None:
        body = step.body
        allowed = {"inspection", *required, *optional}
        extra = sorted(set(body) - allowed)
        if extra:
            raise _refuse("malformed", f"{step.kind} has unknown field(s) {', '.join(extra)}; allowed: "
                          f"{', '.join(sorted(allowed))}")
        for name in required:
            if name not in body:
                raise _refuse("malformed", f"{step.kind} is missing field {name!r}")
        for name, typ in {**required, **optional}.items():
            if name in body and (not isinstance(body[name], typ)
                                 or (isinstance(body[name], bool) and typ is int)):
                raise _refuse("malformed", f"{step.kind} field {name!r} has the wrong type")

    def _request(self, step: LoggedRecord, iid: str, apply: bool) -> None:
        self._fields(step, {"agreement": str, "obligation": str, "method": str, "arrival": str},
                     {"site": str, "note": str})
        b = step.body
        if iid in self.cases:
            prev = self.cases[iid].request
            raise _refuse("duplicate", f"inspection {iid!r} was already requested (entry {prev.index}, "
                          f"{_t(prev.signed_at)}); a new inspection needs a new id")
        ag = self.agreements.get(b["agreement"])
        if ag is None:
            known = ", ".join(sorted(self.agreements)) or "none"
            raise _refuse("unknown-agreement", f"this log enforces no agreement {b['agreement']!r} "
                          f"(adopted: {known}); adopt it with `detente agreement adopt`")
        ob = next((o for o in ag.obligations if o.id == b["obligation"]), None)
        if not isinstance(ob, Inspection):
            regimes = ", ".join(o.id for o in ag.obligations if isinstance(o, Inspection)) or "none"
            raise _refuse("unknown-obligation", f"{ag.id} has no inspection regime {b['obligation']!r} "
                          f"(its regimes: {regimes})")
        if step.author != ob.inspecting:
            raise _refuse("wrong-party", f"under {ag.id}/{ob.id} only {ob.inspecting} may request "
                          f"inspections of {ob.inspected}, not {step.author}")
        method = b["method"]
        allowed = ob.selections
        if method not in allowed:
            raise _refuse("method", f"{ag.id}/{ob.id} selects sites by {' or '.join(allowed)}, "
                          f"not {method!r}")
        try:
            arrival = parse_time(b["arrival"])
        except ValueError as exc:
            raise _refuse("malformed", f"arrival: {exc}") from exc
        notice = arrival - step.signed_at
        if notice < dt.timedelta(hours=ob.notice_hours):
            hours = notice.total_seconds() / 3600
            raise _refuse("notice", f"arrival {b['arrival']} is {hours:.1f} hours after the request; "
                          f"{ag.id}/{ob.id} requires at least {ob.notice_hours} hours' notice: set "
                          f"arrival to {_t(step.signed_at + dt.timedelta(hours=ob.notice_hours))} or later")
        day = step.signed_at.date()
        for c in ob.conditions:  # a regime's window (after:, before:) bounds when it may be used
            if (c.after is not None and day < c.after) or (c.before is not None and day >= c.before):
                raise _refuse("window", f"{ag.id}/{ob.id} applies {c.describe()}; a request signed on "
                              f"{day} is outside it")
        start = period_start(day, ob.quota_per, ob.quota_anchor)
        used = [c for c in self.cases.values() if c.agreement == ag.id and c.obligation == ob.id
                and c.request.signed_at.date() >= start]
        if len(used) >= ob.quota_count:
            raise _refuse("quota", f"{ob.inspecting} has used {len(used)} of {ob.quota_count} "
                          f"inspections per {period_name(ob)} under {ag.id}/{ob.id} since {start} "
                          f"({', '.join(c.id for c in used)}); the next period starts after "
                          f"{period_bounds(start, ob.quota_per, ob.quota_anchor)[1]}")
        pool = pool_for(ag, ob)
        site = b.get("site")
        if method == "joint-random":
            if site is not None:
                raise _refuse("method", "a joint random draw names no site: the site is drawn "
                              "from the commitments both parties reveal")
        else:
            if site is None:
                raise _refuse("malformed", f"a {method} request names its site ('site')")
            if site not in pool.sites:
                raise _refuse("site", f"{site!r} is not in the pool of {ag.id}/{ob.id}: "
                              f"{', '.join(pool.sites)}")
        if apply:
            self.cases[iid] = Case(iid, ag.id, ob.id, ob.inspecting, ob.inspected, method, step,
                                   arrival, pool, ob.reveal_hours, site)
            self.cases[iid].declaration = self._latest_declaration(ob.inspected, step.signed_at)

    def _latest_declaration(self, party: str, before: dt.datetime) -> DeclaredCommitment | None:
        """The host opens against its latest committed declaration logged before the request: one
        made after it could be shaped to what the inspectors will find."""
        got = [x for x in self.declarations.get(party, []) if x.signed_at <= before]
        return got[-1] if got else None

    def _drawing(self, case: Case, step: LoggedRecord) -> None:
        if case.method != "joint-random":
            raise _refuse("method", f"inspection {case.id} is a {case.method} inspection: its site "
                          f"({case.site}) was named in the request; there is nothing to draw")

    def _commit(self, case: Case, step: LoggedRecord, apply: bool) -> None:
        self._fields(step, {"commitment": str})
        self._drawing(case, step)
        if step.author in case.commits:
            raise _refuse("duplicate", f"{step.author} already committed for inspection {case.id} "
                          f"(entry {case.commits[step.author][1].index}); there is one draw")
        if step.signed_at > case.commit_deadline():
            raise _refuse("late", f"commitments for inspection {case.id} were due by "
                          f"{_t(case.commit_deadline())}")
        value = draw.parse_value(step.body["commitment"], "commitment")
        if apply:
            case.commits[step.author] = (value, step)

    def _reveal(self, case: Case, step: LoggedRecord, apply: bool) -> None:
        self._fields(step, {"value": str})
        self._drawing(case, step)
        if len(case.commits) < 2:
            waiting = [p for p in case.parties if p not in case.commits]
            raise _refuse("order", f"no reveal before both parties have committed; waiting for "
                          f"{', '.join(waiting)}'s commitment to inspection {case.id}")
        if step.author in case.reveals:
            raise _refuse("duplicate", f"{step.author} already revealed for inspection {case.id}; "
                          "there is one draw")
        deadline = case.reveal_deadline()
        assert deadline is not None
        if step.signed_at > deadline:
            raise _refuse("late", f"reveals for inspection {case.id} were due by {_t(deadline)}")
        value = draw.parse_value(step.body["value"], "value")
        committed, at = case.commits[step.author]
        if not draw.check_reveal(case.id, step.author, value, committed):
            raise _refuse("reveal-mismatch", f"the value does not open {step.author}'s commitment "
                          f"(entry {at.index}): reveal the value you committed to")
        if apply:
            case.reveals[step.author] = (value, step)
            if len(case.reveals) == 2:
                case.seed = draw.seed(case.reveals[case.inspecting][0], case.reveals[case.inspected][0])
                case.site = draw.draw(case.seed, case.pool)[0]

    def _default(self, case: Case, step: LoggedRecord, apply: bool) -> None:
        self._fields(step, {"party": str})
        self._drawing(case, step)
        other = step.body["party"]
        if other not in case.parties or other == step.author:
            raise _refuse("wrong-party", f"a default names the other party of inspection {case.id}")
        if case.site is not None:
            raise _refuse("order", f"the draw for inspection {case.id} is complete ({case.site})")
        if other not in case.commits:
            due = case.commit_deadline()
            missing = "commit"
        else:
            if other in case.reveals:
                raise _refuse("order", f"{other} has revealed for inspection {case.id}")
            due2 = case.reveal_deadline()
            if due2 is None:  # the author has not committed itself
                raise _refuse("order", f"commit to inspection {case.id} yourself before claiming a "
                              "default")
            due = due2
            missing = "reveal"
        if step.signed_at <= due:
            raise _refuse("early", f"{other} has until {_t(due)} to {missing} for inspection {case.id}")
        if apply:
            case.default = step

    def _selected(self, case: Case, what: str) -> str:
        if case.site is None:
            raise _refuse("order", f"no {what} before the site of inspection {case.id} is selected: "
                          "both parties must commit and reveal")
        return case.site

    def _opening(self, case: Case, step: LoggedRecord, apply: bool) -> None:
        self._fields(step, {"declaration": int, "openings": list})
        self._only(case, step, case.inspected, "the inspected party")
        site = self._selected(case, "opening")
        decl = case.declaration
        if decl is None:
            raise _refuse("no-declaration", f"{case.inspected} logged no committed declaration before "
                          f"inspection {case.id} was requested; there is nothing to open")
        if step.body["declaration"] != decl.index:
            raise _refuse("wrong-declaration", f"open records of entry {decl.index} ({case.inspected}'s "
                          f"declaration as of {decl.as_of}, the latest committed before the request), "
                          f"not entry {step.body['declaration']}")
        openings = step.body["openings"]
        if not openings:
            raise _refuse("malformed", "an opening discloses at least one record")
        records = []
        seen: set[int] = set()
        already = {o["index"] for s, _ in case.openings for o in s.body["openings"]}
        for k, raw in enumerate(openings):
            try:
                op = Opening.from_json(raw)
                rec = verify_opening(decl.commitment, op)
            except ProofError as exc:
                raise _refuse("opening-mismatch", f"opening {k} does not match the committed root "
                              f"of entry {decl.index}: {exc.message}") from exc
            if op.index in seen or op.index in already:
                raise _refuse("duplicate", f"record {op.index} is opened twice")
            seen.add(op.index)
            if rec.get("site") != site:
                raise _refuse("site", f"opening {k} is a record at {rec.get('site')!r}, not at the "
                              f"selected site {site!r}: open only the selected site's records")
            records.append(rec)
        if apply:
            case.openings.append((step, records))

    def _report(self, case: Case, step: LoggedRecord, apply: bool) -> None:
        self._fields(step, {"site": str, "inspected": str, "found": list, "leader": str},
                     {"configurations": list, "identifiers": list, "notes": str, "ended": str})
        self._only(case, step, case.inspecting, "the inspecting party's team leader")
        site = self._selected(case, "report")
        if step.body["site"] != site:
            raise _refuse("site", f"inspection {case.id} was of {site}; a report on "
                          f"{step.body['site']!r} is for a site that was not selected")
        if step.body["inspected"] != case.inspected:
            raise _refuse("malformed", f"'inspected' must be {case.inspected}")
        if case.report is not None:
            raise _refuse("duplicate", f"inspection {case.id} already has its report (entry "
                          f"{case.report.index}); record disagreements as ambiguities")
        if step.signed_at < case.arrival:
            raise _refuse("order", f"the team arrives at {_t(case.arrival)}; a report signed before "
                          "then cannot be of a visit")
        ag = self.agreements[case.agreement]
        for k, item in enumerate(step.body["found"]):
            _found_item(ag, item, k)
        for k, c in enumerate(step.body.get("configurations", [])):
            if not (isinstance(c, dict) and isinstance(c.get("category"), str)
                    and isinstance(c.get("can_launch"), list)
                    and all(isinstance(x, str) for x in c["can_launch"])):
                raise _refuse("malformed", f"configuration {k} must be {{category, can_launch: [...]}}")
        if apply:
            case.report = step

    def _countersign(self, case: Case, step: LoggedRecord, apply: bool) -> None:
        self._fields(step, {"report": int, "keyid": str, "sig": str})
        self._only(case, step, case.inspected, "the host's escort")
        if case.report is None or step.body["report"] != case.report.index:
            raise _refuse("order", f"countersign the logged report of inspection {case.id}"
                          + (f" (entry {case.report.index})" if case.report else ": there is none yet"))
        if case.countersign is not None:
            raise _refuse("duplicate", f"the report of {case.id} is already countersigned")
        from detente.errors import SignatureError
        from detente.model.parties import Role

        found = self.registry.lookup(step.body["keyid"]) if self.registry is not None else None
        if found is None or found[0] != case.inspected:
            raise _refuse("forged", f"key {step.body['keyid']} is not a registered key of {case.inspected}")
        if Role.DECLARANT not in found[1].roles:
            raise _refuse("wrong-role", f"key {step.body['keyid']} of {case.inspected} does not hold the "
                          "declarant role; countersign the report with the party's declarant key "
                          "(witness keys only cosign checkpoints)")
        try:
            sig = unb64(step.body["sig"], what="sig")
        except ValueError as exc:
            raise _refuse("malformed", str(exc)) from exc
        try:
            Verifier(found[1].public_key).verify(sig, envelope_of(case.report).pae())
        except SignatureError:
            raise _refuse("bad-signature", f"the countersignature does not verify over the report "
                          f"(entry {case.report.index}) with {case.inspected}'s key "
                          f"{step.body['keyid']}") from None
        if apply:
            case.countersign = step

    def _ambiguity(self, case: Case, step: LoggedRecord, apply: bool) -> None:
        self._fields(step, {"report": int, "subject": str, "text": str})
        if case.report is None or step.body["report"] != case.report.index:
            raise _refuse("order", f"an ambiguity refers to the logged report of inspection {case.id}"
                          + (f" (entry {case.report.index})" if case.report else ": there is none yet"))
        if apply:
            case.ambiguities.append(step)

    def _refusal(self, case: Case, step: LoggedRecord, apply: bool) -> None:
        self._fields(step, {"reason": str})
        self._only(case, step, case.inspected, "the inspected party")
        if case.report is not None:
            raise _refuse("order", f"inspection {case.id} has been carried out (report entry "
                          f"{case.report.index}); it can no longer be refused")
        if apply:
            case.refusal = step


def _found_item(ag: Agreement, item: Any, k: int) -> None:
    if not isinstance(item, dict):
        raise _refuse("malformed", f"found item {k} must be an object {{category, count, ...}}")
    extra = sorted(set(item) - {"category", "count", "identifiers", "attributes", "note"})
    if extra:
        raise _refuse("malformed", f"found item {k} has unknown field(s) {', '.join(extra)}")
    cat, count = item.get("category"), item.get("count")
    if cat not in ag.categories:
        raise _refuse("malformed", f"found item {k}: {cat!r} is not a category of {ag.id}")
    if type(count) is not int or count < 0:
        raise _refuse("malformed", f"found item {k}: count must be an integer ≥ 0")
    ids = item.get("identifiers", [])
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise _refuse("malformed", f"found item {k}: identifiers must be a list of strings")
    if not isinstance(item.get("attributes", {}), dict):
        raise _refuse("malformed", f"found item {k}: attributes must be an object")


def pool_for(ag: Agreement, ob: Inspection) -> draw.Pool:
    """The sites an inspection regime may visit: its `sites`, or the inspected party's sites of
    its `site_kinds`, each weighted by its kind (joint-random `weights`)."""
    if ob.sites:
        chosen = {s: ag.sites[s].kind for s in ob.sites if s in ag.sites}
    else:
        kinds = set(ob.site_kinds or ())
        chosen = {s.id: s.kind for s in ag.sites.values() if s.owner == ob.inspected and s.kind in kinds}
    return draw.Pool.build(chosen, ob.weights)
