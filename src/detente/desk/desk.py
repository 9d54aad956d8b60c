"""One party's desk: build, sign and append its own declarations, notifications and inspection steps.

Each verb reads the procedure's state from the log (so two people in two terminals, one per
party, see the same inspection), signs one record with the party's key and appends it through
the workspace's log, whose rules judge it. Secrets stay with their party: the full salted
declaration and the draw values are written under DIR/private/<PARTY>/ (mode 0600) before the
record that depends on them is appended, so a crash can never leave a commitment nobody can open.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from detente.codec import b64
from detente.commitment import Commitment, CommittedDeclaration, verify_full
from detente.desk.log import open_log, project
from detente.envelope.dsse import parse_envelope
from detente.envelope.keys import SigningKey
from detente.envelope.record import envelope_of, make_record
from detente.errors import ConfigError, DetenteError, ProofError
from detente.fsutil import atomic_write
from detente.inspection import draw
from detente.inspection.procedure import Case
from detente.log.receipt import Receipt
from detente.log.transparency import TransparencyLog, utcnow
from detente.model.records import format_time
from detente.workspace import Workspace

NOTIFICATION_EVENTS = ("movement", "conversion", "elimination", "deployment", "exercise")


class InspectionError(DetenteError):
    """A step the desk cannot prepare (no such inspection, a secret missing, nothing to open)."""

    code = "inspection"


class Desk:
    def __init__(self, ws: Workspace, party: str, *, key: SigningKey | None = None,
                 clock: Callable[[], dt.datetime] = utcnow, log: TransparencyLog | None = None) -> None:
        self.ws = ws
        self.party = party
        if party not in ws.registry().parties:
            raise ConfigError(f"{party} is not a party in {ws.path}; register it with `detente party`")
        self.key = key or ws.party_key(party)
        self.clock = clock
        self.log = log or open_log(ws, clock=clock)

    @property
    def private(self) -> Path:
        return self.ws.path / "private" / self.party

    # -- plumbing ---------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        with self.log.store.writer() as txn:
            return txn.last_seq(self.party) + 1

    def append(self, kind: str, body: dict[str, Any]) -> Receipt:
        """Sign `body` as a `kind` record and append it; RecordRefused (log unchanged) if refused."""
        env = make_record(kind, self.party, self._next_seq(), body, self.key,
                          log=self.ws.registry().origin, signed_at=self.clock())
        return self.log.append(env.canonical())

    def case(self, inspection: str) -> Case:
        case = project(self.ws, self.log).cases.get(inspection)
        if case is None:
            raise InspectionError(f"there is no inspection {inspection!r} in the log; list them with "
                                  "`detente inspect status`")
        return case

    def _secret(self, name: str, data: bytes) -> Path:
        path = self.private / name
        if path.exists():
            raise InspectionError(f"{path} already exists; refusing to overwrite a secret")
        atomic_write(path, data, mode=0o600)
        return path

    # -- declarations and notifications -----------------------------------------------------------

    def declare(self, as_of: dt.date, records: Sequence[Mapping[str, Any]], *,
                sites: Sequence[Mapping[str, Any]] = (), aggregates: Mapping[str, Any] | None = None,
                source: str | None = None, under: Sequence[str] = ()) -> tuple[Receipt, Path]:
        """Commit to `records` (a fresh salt each) and log the root with the aggregates.

        `under`: the adopted agreements the declaration is made under; each judges it, and no
        other (a declaration for another purpose never replaces one made under an agreement).
        A record of a category none of them defines is refused here, before anything is signed.

        Returns the receipt and the full salted declaration, written under DIR/private/PARTY/ first:
        send that file to treaty partners (`detente disclose`); open single records from it.
        """
        for k, r in enumerate(records):
            if not isinstance(r, Mapping) or not isinstance(r.get("site"), str):
                raise InspectionError(f"declaration record {k} must be an object with a 'site'")
        if under:
            adopted = {a.id: a for a in self.ws.agreements()}
            unknown = [a for a in under if a not in adopted]
            if unknown:
                raise InspectionError(f"{', '.join(unknown)} is not adopted in {self.ws.path} (adopted: "
                                      f"{', '.join(sorted(adopted)) or 'none'}); a declaration is made "
                                      "under agreements the log enforces")
            defined = set().union(*(adopted[a].categories for a in under))
            for k, r in enumerate(records):
                if r.get("category") not in defined:
                    raise InspectionError(
                        f"declaration record {k} is of category {r.get('category')!r}, which "
                        f"{' and '.join(under)} {'does' if len(under) == 1 else 'do'} not define; "
                        "declare it under an agreement that counts it, or in a declaration of its own")
        full = CommittedDeclaration.build(list(records))
        c = full.commitment
        path = self.private / f"declaration-{as_of.isoformat()}-{c.root.hex()[:16]}.json"
        atomic_write(path, json.dumps(full.to_json(), separators=(",", ":")).encode(), mode=0o600)
        body: dict[str, Any] = {
            "as_of": as_of.isoformat(),
            "commitment": c.to_json(),
            "aggregates": dict(aggregates or {}),
            "sites": [dict(s) for s in sites],
        }
        if source:
            body["source"] = source
        if under:
            body["agreements"] = sorted(set(under))
        return self.append("declaration", body), path

    def notify(self, event: str, event_time: dt.datetime, details: Mapping[str, Any] | None = None,
               items: Sequence[Mapping[str, Any]] = ()) -> Receipt:
        """A notification; `items` ({category, count, site?, attributes?}) say what the event
        concerns, so a rule with `select:` can tell whether it is one it governs."""
        if event not in NOTIFICATION_EVENTS:
            raise InspectionError(f"event must be one of {', '.join(NOTIFICATION_EVENTS)}, not {event!r}")
        body: dict[str, Any] = {"event": event, "event_time": format_time(event_time), **dict(details or {})}
        if items:
            body["items"] = [dict(i) for i in items]
        return self.append("notification", body)

    # -- the inspection steps ---------------------------------------------------------------------

    def request(self, agreement: str, obligation: str, inspection: str, method: str,
                arrival: dt.datetime, site: str | None = None) -> Receipt:
        body: dict[str, Any] = {"inspection": inspection, "agreement": agreement,
                                "obligation": obligation, "method": method,
                                "arrival": format_time(arrival)}
        if site is not None:
            body["site"] = site
        return self.append("inspection-request", body)

    def commit(self, inspection: str) -> Receipt:
        """Draw a secret value, keep it (0600), log only its commitment."""
        self.case(inspection)
        value = secrets.token_bytes(draw.VALUE_SIZE)
        self._secret(f"draw-{inspection}.value", value.hex().encode())
        c = draw.commitment(inspection, self.party, value)
        return self.append("inspection-commit", {"inspection": inspection, "commitment": c.hex()})

    def reveal(self, inspection: str) -> Receipt:
        path = self.private / f"draw-{inspection}.value"
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise InspectionError(f"no draw value for {inspection} at {path}: commit from this "
                                  "workspace first") from exc
        return self.append("inspection-reveal", {"inspection": inspection, "value": value})

    def claim_default(self, inspection: str, party: str) -> Receipt:
        return self.append("inspection-default", {"inspection": inspection, "party": party})

    def open_records(self, inspection: str) -> Receipt:
        """Open every record of the selected site from the declaration the inspection is held to."""
        case = self.case(inspection)
        if case.site is None:
            raise InspectionError(f"inspection {inspection} has no selected site yet ({case.status})")
        if case.declaration is None:
            raise InspectionError(f"{self.party} logged no committed declaration before inspection "
                                  f"{inspection} was requested")
        full = self.private_declaration(case.declaration.commitment)
        site = case.site
        openings = full.open_where(lambda r: r.get("site") == site)
        if not openings:
            raise InspectionError(f"the declaration holds no record at {site}; nothing to open")
        return self.append("inspection-opening", {
            "inspection": inspection, "declaration": case.declaration.index,
            "openings": [o.to_json() for o in openings]})

    def private_declaration(self, c: Commitment) -> CommittedDeclaration:
        for p in sorted(self.private.glob(f"declaration-*-{c.root.hex()[:16]}.json")):
            try:
                return verify_full(c, json.loads(p.read_bytes()))
            except (ProofError, ValueError):
                continue
        raise InspectionError(f"no full declaration matching root {c.root.hex()} under {self.private}")

    def report(self, inspection: str, *, found: Sequence[Mapping[str, Any]], leader: str,
               configurations: Sequence[Mapping[str, Any]] = (), notes: str | None = None) -> Receipt:
        case = self.case(inspection)
        if case.site is None:
            raise InspectionError(f"inspection {inspection} has no selected site yet ({case.status})")
        body: dict[str, Any] = {"inspection": inspection, "site": case.site,
                                "inspected": case.inspected, "leader": leader,
                                "found": [dict(f) for f in found]}
        if configurations:
            body["configurations"] = [dict(c) for c in configurations]
        if notes:
            body["notes"] = notes
        return self.append("inspection-report", body)

    def countersign(self, inspection: str) -> Receipt:
        """Sign the logged report envelope's DSSE PAE: with the report's own signature this makes
        a doubly-signed DSSE envelope anyone can reassemble (`countersigned_report`)."""
        case = self.case(inspection)
        if case.report is None:
            raise InspectionError(f"inspection {inspection} has no report to countersign yet")
        sig = self.key.sign(envelope_of(case.report).pae())
        return self.append("inspection-countersign", {
            "inspection": inspection, "report": case.report.index, "keyid": self.key.keyid,
            "sig": b64(sig)})

    def ambiguity(self, inspection: str, subject: str, text: str) -> Receipt:
        case = self.case(inspection)
        if case.report is None:
            raise InspectionError(f"inspection {inspection} has no report yet; ambiguities refer to one")
        return self.append("inspection-ambiguity", {"inspection": inspection, "report": case.report.index,
                                                    "subject": subject, "text": text})

    def refuse(self, inspection: str, reason: str) -> Receipt:
        return self.append("inspection-refusal", {"inspection": inspection, "reason": reason})


def countersigned_report(case: Case) -> dict[str, Any]:
    """The report envelope with the escort's signature added: one DSSE envelope, two signatures."""
    if case.report is None or case.countersign is None:
        raise InspectionError(f"inspection {case.id} has no countersigned report")
    env = envelope_of(case.report).to_json()
    env["signatures"] = [*env["signatures"],
                         {"keyid": case.countersign.body["keyid"], "sig": case.countersign.body["sig"]}]
    parse_envelope(env)  # well-formed
    return env


def disclose(ws: Workspace, path: Path) -> tuple[int, Path]:
    """Accept a partner's full declaration: find the logged declaration whose commitment it
    rebuilds, verify it, and keep it in DIR/disclosed/ where the evaluator reads it."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InspectionError(f"cannot read {path}: {exc}") from exc
    full = CommittedDeclaration.from_json(data)
    root = full.commitment.root
    for decl in project(ws).declarations:
        if decl.commitment is not None and decl.commitment.root == root:
            verify_full(decl.commitment, data)
            dest = ws.disclosed / decl.party / f"{root.hex()}.json"
            # as sensitive as the author's own copy under private/: readable by this user only
            atomic_write(dest, path.read_bytes(), mode=0o600)
            return decl.record.index, dest
    raise InspectionError(f"no declaration in the log commits to root {root.hex()}: the file is not "
                          "one the log holds a commitment for")
