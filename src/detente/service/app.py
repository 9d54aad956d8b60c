"""`detente serve`: the log, its proofs, the findings and the inspection steps over HTTP.

Roles, decided per request from the bearer token (auth.py) or its absence:

    public / observer   checkpoints, proofs, entry metadata and leaf hashes, findings, the dashboard
    party (declarant or inspector key)
                        + append its own records (the envelope's author must be the caller),
                          read full entries, inspections, and declarations disclosed to the log's parties
    witness (witness key)
                        + submit its cosignature of a checkpoint

Every write goes through `desk.open_log()`, so the door (signatures, roles, sequence numbers) and the
content rules (the inspection procedure of the adopted agreements) judge it exactly as they judge the
CLI; refusals come back as 409 with the rule's code. Concurrent appends are group-committed: whoever
finds the log idle writes everything waiting in one durable transaction (one fsync for many
clients), and the database's write lock orders them against other processes, so many clients keep
one order and each gets the receipt of its own records.
"""


import datetime as dt
import json
import threading
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as FPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from detente.codec import b64, unb64
from detente.compliance.check import check, read_disclosed
from detente.desk import open_log, project
from detente.envelope.canonical import parse_json
from detente.envelope.dsse import parse_envelope
from detente.errors import DetenteError, ProofError, RecordRefused
from detente.inspection.procedure import STEP_KINDS
from detente.log.admission import Admitted
from detente.log.merkle import leaf_hash
from detente.log.note import Checkpoint, parse_note
from detente.log.receipt import Receipt
from detente.log.transparency import TransparencyLog
from detente.log.trust import operator_verifier, witness_verifiers
from detente.model.parties import Role
from detente.service.auth import Authenticator, AuthError, Principal
from detente.service.limits import RateLimiter
from detente.workspace import Workspace

API = "/v1"
#: Log sizes and indices fit in a signed 64-bit column; anything larger is a malformed request.
MAX_INDEX = 2**53 - 1
STEPS = {k.removeprefix("inspection-"): k for k in STEP_KINDS}


@dataclass(frozen=True)
class Settings:
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch: int = 1000
    rate: float = 200.0  # requests per second per caller, on average
    burst: float = 400.0
    public_rate: float = 50.0
    public_burst: float = 100.0


class ChallengeIn(BaseModel):
    keyid: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the raw Ed25519 public key")


class TokenIn(BaseModel):
    keyid: str = Field(pattern=r"^[0-9a-f]{64}$")
    challenge: str = Field(max_length=64)
    signature: str = Field(max_length=128, description="base64 Ed25519 signature of the auth message")


class CosignIn(BaseModel):
    note: str = Field(max_length=65536, description="the checkpoint note carrying the witness's cosignature")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
           **extra: Any) -> JSONResponse:
    """The one error shape: `{"error": {"code", "message"}}`, plus `results` for a refused batch."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status,
                        headers=headers)


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def create_app(ws: Workspace, settings: Settings = Settings(), *, dashboard: bool = True) -> FastAPI:
    reg = ws.registry()
    auth = Authenticator(reg)
    limiter = RateLimiter(settings.rate, settings.burst)
    public_limiter = RateLimiter(settings.public_rate, settings.public_burst)
    log = open_log(ws)  # one writer object: its rules' projection follows the log across requests
    committer = GroupCommit(log)
    app = FastAPI(
        title="Détente",
        version="1",
        description="Signed records in a witnessed transparency log: append, prove, evaluate, inspect.",
    )
    app.state.auth = auth

    # -- errors: one JSON shape ------------------------------------------------------------------

    @app.exception_handler(_Refusal)
    async def refusal(_: Request, exc: _Refusal) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "invalid-request", 404: "not-found", 405: "method-not-allowed"}.get(exc.status_code,
                                                                                         "http")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _error(422, "invalid-request", f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(DetenteError)
    async def detente_error(_: Request, exc: DetenteError) -> JSONResponse:
        status = 401 if isinstance(exc, AuthError) else 409 if isinstance(exc, RecordRefused) else 400
        return _error(status, exc.code, exc.message)

    @app.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> JSONResponse:  # never a bare 500 page
        return _error(500, "internal", f"internal error ({type(exc).__name__}); the log is unchanged "
                      "unless a receipt was returned")

    # -- limits ----------------------------------------------------------------------------------

    # innermost of the three: sees the body only once the caps below have let it through
    app.add_middleware(_JsonGuard, router=app.router, max_depth=MAX_JSON_DEPTH)

    @app.middleware("http")
    async def body_limit(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            return _error(413, "too-large", f"request body over {settings.max_body_bytes} bytes")
        return await call_next(request)  # type: ignore[no-any-return]

    app.add_middleware(_BodyCap, limit=settings.max_body_bytes)  # bodies sent without a length

    def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal | None:
        try:
            p = auth.principal(authorization)
        except AuthError as exc:
            raise _Refusal(401, exc.code, exc.message, {"WWW-Authenticate": "Bearer"}) from exc
        who, lim = (f"party:{p.party}", limiter) if p else (f"ip:{_ip(request)}", public_limiter)
        wait = lim.take(who)
        if wait:
            raise _Refusal(429, "rate-limited", f"too many requests from {who}; retry in {wait:.2f} s",
                           {"Retry-After": str(max(1, round(wait)))})
        return p

    Caller = Annotated[Principal | None, Depends(caller)]

    def need_party(p: Principal | None) -> Principal:
        if p is None:
            raise _Refusal(401, "unauthorized", "authenticate as a party (Bearer token)",
                           {"WWW-Authenticate": "Bearer"})
        if not p.roles & {Role.DECLARANT, Role.INSPECTOR}:
            raise _Refusal(403, "forbidden", f"the key {p.keyid[:16]}… of {p.party} is not a party key "
                           "(declarant or inspector); witnesses and observers cannot do this")
        return p

    # -- authentication --------------------------------------------------------------------------

    @app.post(f"{API}/auth/challenge", tags=["auth"])
    def challenge(body: ChallengeIn, _: Caller) -> dict[str, Any]:
        """A single-use challenge for a registered key, valid for 60 s."""
        c, ttl = auth.challenge(body.keyid)
        return {"challenge": c, "expires_in": ttl,
                "sign": f"Ed25519 over 'detente-auth/v1\\n{reg.origin}\\n<challenge>\\n'"}

    @app.post(f"{API}/auth/token", tags=["auth"])
    def token(body: TokenIn, _: Caller) -> dict[str, Any]:
        """A bearer token for the party whose key signed the challenge (15 minutes)."""
        tok, p = auth.token(body.keyid, body.challenge, body.signature)
        return {"token": tok, "party": p.party, "roles": sorted(r.value for r in p.roles),
                "expires_in": int(p.expires - auth._now())}

    # -- the log: public ------------------------------------------------------------------------

    @app.get(f"{API}/log", tags=["log"])
    def log_info(_: Caller) -> dict[str, Any]:
        return {"origin": reg.origin, "operator_vkey": operator_verifier(reg).vkey,
                "witnesses": {pid: v.vkey for pid, v in witness_verifiers(reg).items()},
                "parties": sorted(reg.parties), "size": log.size()}

    @app.get(f"{API}/checkpoint", tags=["log"])
    def checkpoint(_: Caller,
                   size: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None) -> dict[str, Any]:
        """The latest signed checkpoint (or the one of `size`), with any witness cosignatures."""
        try:
            scp = log.latest() if size is None else log.checkpoint_at(size)
        except ProofError as exc:
            raise _Refusal(404, "not-found", exc.message) from exc
        return {"size": scp.checkpoint.size, "root_hash": b64(scp.checkpoint.root), "note": scp.encode()}

    @app.get(f"{API}/proof/inclusion", tags=["log"])
    def inclusion(_: Caller, index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
                  size: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None) -> dict[str, Any]:
        n = log.size()
        if index >= n or (size is not None and (size > n or index >= size)):
            raise _Refusal(404, "not-found", f"no entry {index} in a log of {n} (size {size})")
        try:
            r = log.inclusion_proof(index, size)
        except ProofError as exc:
            raise _Refusal(404, "not-found", exc.message) from exc
        return {**r.to_json(), "leaf_hash": b64(leaf_hash(log.leaf(index)))}

    @app.get(f"{API}/proof/consistency", tags=["log"])
    def consistency(_: Caller, old: Annotated[int, Query(ge=0, le=MAX_INDEX)],
                    new: Annotated[int, Query(ge=0, le=MAX_INDEX)]) -> dict[str, Any]:
        if old > new or new > log.size():
            raise _Refusal(404, "not-found",
                           f"no consistency proof from {old} to {new} (log size {log.size()})")
        return {"old": old, "new": new, "proof": [b64(h) for h in log.consistency_proof(old, new)]}

    @app.get(f"{API}/entries", tags=["log"])
    def entries(p: Caller, start: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        """Entries [start, start+limit). Parties get the envelopes; the public the metadata and leaf
        hash only (bodies may hold declarations and openings meant for the parties)."""
        full = p is not None and bool(p.roles & {Role.DECLARANT, Role.INSPECTOR})
        rows = []
        for e in log.store.entries(start, min(start + limit, log.size())):
            row: dict[str, Any] = {"index": e.index, "kind": e.kind, "author": e.author, "seq": e.seq,
                                   "received": e.received_at, "leaf_hash": b64(leaf_hash(e.leaf))}
            if full:
                row["envelope"] = json.loads(e.leaf)
            rows.append(row)
        return {"start": start, "size": log.size(), "entries": rows, "bodies": full}

    # -- writes ----------------------------------------------------------------------------------

    def _append(p: Principal, raws: list[dict[str, Any]], *, only_kind: str | None = None,
                inspection: str | None = None) -> list[dict[str, Any]]:
        if not raws or len(raws) > settings.max_batch:
            raise _Refusal(422, "invalid-request", f"send 1 to {settings.max_batch} envelopes")
        admitted: list[Admitted | RecordRefused] = []
        for raw in raws:
            try:
                item = log.admit(raw)
            except RecordRefused as exc:
                admitted.append(exc)
                continue
            if item.author != p.party:
                admitted.append(RecordRefused(
                    f"{p.party} may append only its own records; this one names {item.author} as author",
                    code="not-yours"))
            elif only_kind is not None and item.kind != only_kind:
                admitted.append(RecordRefused(f"this endpoint takes {only_kind} records, not {item.kind}",
                                              code="wrong-kind"))
            elif inspection is not None and parse_json(parse_envelope(item.leaf).payload)["body"].get(
                    "inspection") != inspection:
                admitted.append(RecordRefused(f"the record is not a step of inspection {inspection}",
                                              code="wrong-inspection"))
            else:
                admitted.append(item)
        results = committer.submit(admitted)
        return [r.to_json() if not isinstance(r, RecordRefused)
                else {"refused": r.code, "message": r.message} for r in results]

    @app.post(f"{API}/entries", tags=["log"], openapi_extra=_body_doc(_ENVELOPES))
    async def append(request: Request, p: Caller) -> JSONResponse:
        """Append one DSSE envelope (an object) or several (a list of objects). Each gets a receipt
        or a refusal with its reason; refused records leave the log unchanged. A list answers 200
        `{"results": [...]}` if any record was appended, else 409 with the results in the error."""
        party = need_party(p)
        raws = await _json_body(request)
        if isinstance(raws, dict):
            batch = [raws]
        elif isinstance(raws, list):
            batch = raws
            for i, raw in enumerate(batch):
                if not isinstance(raw, dict):
                    raise _Refusal(422, "invalid-request", f"item {i} of the list is {_json_kind(raw)}, "
                                   "not a DSSE envelope: send a list of JSON objects")
        else:
            raise _Refusal(422, "invalid-request", f"the body is {_json_kind(raws)}: send one DSSE envelope "
                           "(a JSON object) or a list of them")
        out = await run_in_threadpool(_append, party, batch)
        if isinstance(raws, dict):
            r = out[0]
            if "refused" in r:
                return _error(409, r["refused"], r["message"])
            return JSONResponse(r, status_code=200)
        refused = [r for r in out if "refused" in r]
        if len(refused) < len(out):
            return JSONResponse({"results": out}, status_code=200)
        codes = {r["refused"] for r in refused}
        first = refused[0]
        return _error(409, codes.pop() if len(codes) == 1 else "refused",
                      f"none of the {len(out)} records was appended (the log is unchanged); first: "
                      f"{first['refused']}: {first['message']}; each record's reason is in results",
                      results=out)

    @app.post(f"{API}/cosignatures", tags=["witness"])
    def cosign(body: CosignIn, p: Caller) -> dict[str, Any]:
        """A witness submits the checkpoint note carrying its cosignature (after checking consistency
        against what it saw before); the log attaches it once it verifies."""
        if p is None or Role.WITNESS not in p.roles:
            raise _Refusal(403 if p else 401, "forbidden", "only a registered witness key may cosign")
        note = parse_note(body.note)
        cp = Checkpoint.parse_text(note.text)
        mine = [s for s in note.signatures if s.name == p.note_name]
        if not mine:
            raise _Refusal(422, "invalid-request", f"the note carries no signature named {p.note_name}")
        scp = log.add_cosignature(cp.size, mine[0])
        return {"size": cp.size, "note": scp.encode()}

    # -- findings and state: public --------------------------------------------------------------

    @app.get(f"{API}/findings", tags=["compliance"])
    def findings(p: Caller, at: dt.date, hypothetical: bool = True) -> dict[str, Any]:
        """Findings at `at` for the adopted agreements (proposals hypothetically unless told not to)."""
        if not log.size():
            return {"at": at.isoformat(), "findings": []}
        res = check(ws.agreements(), log, at, hypothetical=hypothetical,
                    disclosed=read_disclosed(ws.disclosed))
        # the parties see the items behind each finding; anyone else the public view
        full = p is not None and bool(p.roles & {Role.DECLARANT, Role.INSPECTOR})
        return {"at": at.isoformat(), "checkpoint": res.checkpoint,
                "findings": [(f if full else f.public()).to_json() for f in res.findings]}

    @app.get(f"{API}/state", tags=["compliance"])
    def state(_: Caller, at: dt.date) -> dict[str, Any]:
        """Each party's declaration in force at `at`: its date, entry and aggregates (public)."""
        from detente.compliance.projection import project_log

        h = project_log(log.store, log.size()).at(at)
        return {"at": at.isoformat(), "declarations": {
            p: {"as_of": d.as_of.isoformat(), "index": d.record.index, "aggregates": dict(d.aggregates),
                "committed": d.commitment is not None} for p, d in sorted(h.declarations.items())}}

    # -- inspections: parties --------------------------------------------------------------------

    @app.get(f"{API}/inspections", tags=["inspections"])
    def inspections(p: Caller) -> dict[str, Any]:
        need_party(p)
        proc = project(ws, log)
        return {"inspections": [c.to_json() for c in proc.cases.values()],
                "void": [{"index": i, "reason": r} for i, r in sorted(proc.void.items())]}

    @app.get(f"{API}/inspections/{{inspection}}", tags=["inspections"])
    def inspection(inspection: str, p: Caller) -> dict[str, Any]:
        need_party(p)
        case = project(ws, log).cases.get(inspection)
        if case is None:
            raise _Refusal(404, "not-found", f"no inspection {inspection!r} in the log")
        return case.to_json()

    @app.post(f"{API}/inspections/{{inspection}}/{{step}}", tags=["inspections"],
              openapi_extra=_body_doc(_ENVELOPE))
    async def inspection_step(inspection: str, step: str, request: Request, p: Caller) -> JSONResponse:
        """Append one signed step of `inspection` (request, commit, reveal, default, opening, report,
        countersign, ambiguity, refusal): the log's procedure judges it."""
        party = need_party(p)
        kind = STEPS.get(step)
        if kind is None:
            raise _Refusal(404, "not-found", f"no step {step!r}; steps: {', '.join(sorted(STEPS))}")
        raw = await _json_body(request)
        if not isinstance(raw, dict):
            raise _Refusal(422, "invalid-request",
                           f"the body is {_json_kind(raw)}: send one DSSE envelope (a JSON object)")
        (r,) = await run_in_threadpool(_append, party, [raw], only_kind=kind, inspection=inspection)
        if "refused" in r:
            return _error(409, r["refused"], r["message"])
        return JSONResponse(r)

    @app.get(f"{API}/declarations/{{index}}/full", tags=["declarations"])
    def full_declaration(index: Annotated[int, FPath(ge=0, le=MAX_INDEX)], p: Caller) -> Response:
        """The full salted records of a committed declaration, for the log's parties only."""
        need_party(p)
        if index >= log.size():
            raise _Refusal(404, "not-found", f"no entry {index}")
        body = parse_json(parse_envelope(log.leaf(index)).payload)["body"]
        if "commitment" not in body:
            raise _Refusal(404, "not-found", f"entry {index} is not a committed declaration")
        root = unb64(str(body["commitment"]["root"]), what="root")
        for path in sorted(ws.disclosed.glob(f"*/{root.hex()}.json")):
            return Response(path.read_bytes(), media_type="application/json")
        raise _Refusal(404, "not-found", f"the full records of entry {index} were not disclosed to this log")

    if dashboard:
        from detente.dashboard.app import router
        from detente.dashboard.views import Dashboard

        app.include_router(router(Dashboard.open(ws)))

    return app


class _BodyCap:
    """Count the bytes of a request body as they arrive and answer 413 past `limit`: a chunked
    request has no Content-Length to check up front."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return msg

        try:
            await self.app(scope, counted, send)
        except* _TooLarge:  # raised in `counted`, possibly inside a middleware's task group
            resp = _error(413, "too-large", f"request body over {self.limit} bytes")
            await resp(scope, receive, send)


class _TooLarge(Exception):
    pass


class GroupCommit:
    """Leader/follower group commit over `TransparencyLog.append_admitted`.

    A request queues its records; if no commit is running it becomes the leader, takes everything
    queued (its own and other requests'), appends it as one batch and hands each request its slice
    of the results. Records keep their arrival order, so a party's records stay in sequence order.
    """

    def __init__(self, log: TransparencyLog, max_batch: int = 5000) -> None:
        self.log = log
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Slot] = []
        self._busy = False

    def submit(self, items: list[Admitted | RecordRefused]) -> list[Receipt | RecordRefused]:
        slot = _Slot(items)
        with self._cond:
            self._pending.append(slot)
            while self._busy and not slot.done:
                self._cond.wait()
            if slot.done:
                return slot.result()
            self._busy = True
            batch: list[_Slot] = []
            n = 0
            while self._pending and (not batch or n + len(self._pending[0].items) <= self.max_batch):
                s = self._pending.pop(0)
                batch.append(s)
                n += len(s.items)
        try:
            results = self.log.append_admitted([i for s in batch for i in s.items])
            k = 0
            for s in batch:
                s.results, k = results[k:k + len(s.items)], k + len(s.items)
        except BaseException as exc:
            for s in batch:
                s.error = exc
            raise
        finally:
            with self._cond:
                for s in batch:
                    s.done = True
                self._busy = False
                self._cond.notify_all()
        return slot.result()


class _Slot:
    def __init__(self, items: list[Admitted | RecordRefused]) -> None:
        self.items = items
        self.results: list[Receipt | RecordRefused] = []
        self.error: BaseException | None = None
        self.done = False

    def result(self) -> list[Receipt | RecordRefused]:
        if self.error is not None:
            raise self.error
        return self.results


#: How deep a request body may nest arrays and objects. An envelope is 3 levels (a batch 4); far
#: below where json.loads (RecursionError near 1,000) or anything after it could fail.
MAX_JSON_DEPTH = 64
_JSON_TYPES = {"application/json", "application/json;charset=utf-8"}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as int8


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `body` nests arrays and objects more than `limit` deep, decided without parsing
    it: strings cut out (escaped backslashes and quotes dropped, then every other run between
    quotes), each remaining [ { counted +1 and ] } -1, and the running sum's maximum taken. All in
    C (replace, split, translate, a numpy cumsum): tens of milliseconds for 4 MiB. Up to the first
    syntax error this reads the body exactly as a parser would, so for malformed input the maximum
    still bounds how deep a parser recurses before failing: an unclosed `[[[[…` is too deep too."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    steps = b"".join(unescaped.split(b'"')[::2]).translate(_AS_STEPS, _NOT_BRACKETS)
    if not steps:
        return False
    return int(np.cumsum(np.frombuffer(steps, dtype=np.int8), dtype=np.int64).max()) > limit


def _json_type(value: str | None) -> bool:
    """application/json, optionally with charset=utf-8 (JSON is UTF-8, RFC 8259)."""
    if value is None:
        return False
    return value.lower().replace(" ", "").replace('"', "") in _JSON_TYPES


class _JsonGuard:
    """Before any endpoint parses a request body: 415 unless the body is declared application/json,
    422 `too-deep` if it nests more than `max_depth` arrays and objects (json.loads would raise
    RecursionError near 1,000: a 500), 422 if it is not UTF-8. The body was capped (413) before it
    got here; it is read once, checked and handed on."""

    def __init__(self, app: Any, router: Any, max_depth: int) -> None:
        self.app, self.router, self.max_depth = app, router, max_depth

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH") or not any(
                r.matches(scope)[0] == Match.FULL for r in self.router.routes):
            await self.app(scope, receive, send)  # no body to parse, or a 404/405 to answer
            return
        ctype = dict(scope["headers"]).get(b"content-type")
        if not _json_type(ctype.decode("latin-1") if ctype is not None else None):
            resp = _error(415, "unsupported-media-type", "send the body as JSON, with the header "
                          "Content-Type: application/json (charset, if given, utf-8)")
            await resp(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":  # the client went away
                return
            chunks.append(msg.get("body", b""))
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        deep = (json_too_deep(body, self.max_depth) if len(body) <= 65536
                else await run_in_threadpool(json_too_deep, body, self.max_depth))  # keep the loop free
        if deep:
            resp = _error(422, "too-deep", f"the body nests arrays and objects more than "
                          f"{self.max_depth} deep; no request needs more than 4 (a list of envelopes)")
            await resp(scope, receive, send)
            return
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            resp = _error(422, "invalid-request", f"the body is not UTF-8 (byte {exc.start}); send JSON "
                          "encoded as UTF-8")
            await resp(scope, receive, send)
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


async def _json_body(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body)
    except RecursionError:  # not reached past _JsonGuard; kept so no path can answer 500
        raise _Refusal(422, "too-deep", "the body nests arrays and objects too deep") from None
    except ValueError as exc:
        raise _Refusal(422, "invalid-request", f"the body is not JSON: {exc}") from exc


_ENVELOPE: dict[str, Any] = {
    "type": "object", "description": "a DSSE envelope",
    "required": ["payload", "payloadType", "signatures"], "additionalProperties": False,
    "properties": {"payload": {"type": "string", "description": "base64 of the canonical record"},
                   "payloadType": {"type": "string"},
                   "signatures": {"type": "array", "minItems": 1, "items": {
                       "type": "object", "required": ["sig"], "additionalProperties": False,
                       "properties": {"keyid": {"type": "string"}, "sig": {"type": "string"}}}}}}
_ENVELOPES: dict[str, Any] = {"oneOf": [_ENVELOPE, {"type": "array", "items": _ENVELOPE, "minItems": 1,
                                                    "maxItems": Settings.max_batch}]}


def _body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


__all__ = ["Settings", "create_app"]
