"""The HTTP API: authentication, the role × endpoint matrix (allowed and refused), the one error
shape, limits, and appends that reach the log exactly as through the CLI."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from detente.codec import b64
from detente.desk import Desk, open_log
from detente.log.merkle import leaf_hash, verify_inclusion
from detente.log.note import NoteVerifier, open_checkpoint
from detente.service.app import Settings
from detente.service.auth import auth_message
from service.conftest import ORIGIN, Env, login

ROLES = ("public", "party", "witness", "other-party")


def client_as(env: Env, role: str, settings: Settings | None = None) -> TestClient:
    c = env.app_client(settings)
    if role == "party":
        login(c, env.key("US"))
    elif role == "other-party":
        login(c, env.key("RU"))
    elif role == "witness":
        login(c, env.key("US", witness=True))
    return c


def assert_error(r: Any, status: int, code: str | None = None, *, results: bool = False) -> None:
    """The one error shape; `results` (each record's outcome) only in a refused batch's error."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == ({"code", "message", "results"} if results else {"code", "message"}), body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body


def seeded(env: Env) -> int:
    """Three statements and a committed declaration by US; returns the declaration's index."""
    c = login(env.app_client(), env.key("US"))
    for _ in range(3):
        assert c.post("/v1/entries", json=env.envelope("US")).status_code == 200
    desk = Desk(env.ws, "US")
    r, path = desk.declare(dt.date(2022, 3, 1), [{"site": "deveselu", "category": "SM-3", "count": 24}],
                           aggregates={"interceptors": 24})
    from detente.desk import disclose

    disclose(env.ws, path)
    env.seq["US"] = 4
    return r.index


# ---------------------------------------------------------------- authentication


def test_login_and_token_rules(env: Env) -> None:
    c = env.app_client()
    key = env.key("US")
    ch = c.post("/v1/auth/challenge", json={"keyid": key.keyid}).json()["challenge"]
    bad = c.post("/v1/auth/token", json={"keyid": key.keyid, "challenge": ch,
                                         "signature": b64(key.sign(b"something else"))})
    assert_error(bad, 401, "bad-signature")
    # the challenge was used up by the failed attempt: a correct answer now is refused too
    good_sig = b64(key.sign(auth_message(ORIGIN, ch)))
    assert_error(c.post("/v1/auth/token", json={"keyid": key.keyid, "challenge": ch, "signature": good_sig}),
                 401, "challenge")
    # a signature for another log's origin does not verify here
    ch = c.post("/v1/auth/challenge", json={"keyid": key.keyid}).json()["challenge"]
    other = b64(key.sign(auth_message("detente.test/elsewhere", ch)))
    assert_error(c.post("/v1/auth/token", json={"keyid": key.keyid, "challenge": ch, "signature": other}),
                 401, "bad-signature")
    # RU's key cannot answer a challenge issued to US's key
    ch = c.post("/v1/auth/challenge", json={"keyid": key.keyid}).json()["challenge"]
    ru = env.key("RU")
    assert_error(c.post("/v1/auth/token", json={"keyid": ru.keyid, "challenge": ch,
                                                "signature": b64(ru.sign(auth_message(ORIGIN, ch)))}),
                 401, "challenge")
    assert_error(c.post("/v1/auth/challenge", json={"keyid": "ab" * 32}), 401, "unknown-key")
    c.headers["Authorization"] = "Bearer not-a-token"
    assert_error(c.get("/v1/log"), 401, "token")
    c.headers["Authorization"] = "Basic dXM6cHc="
    assert_error(c.get("/v1/log"), 401)


def test_tokens_expire(env: Env) -> None:
    c = login(env.app_client(), env.key("US"))
    assert c.get("/v1/inspections").status_code == 200
    auth = c.app.state.auth  # type: ignore[attr-defined]
    start = auth._now()
    auth._now = lambda: start + 15 * 60 + 1
    assert_error(c.get("/v1/inspections"), 401, "token")


# ---------------------------------------------------------------- the matrix

# endpoint -> the roles allowed; everyone else is refused with the status given
MATRIX: dict[str, tuple[set[str], dict[str, int]]] = {
    "GET /v1/log": (set(ROLES), {}),
    "GET /v1/checkpoint": (set(ROLES), {}),
    "GET /v1/proof/inclusion": (set(ROLES), {}),
    "GET /v1/proof/consistency": (set(ROLES), {}),
    "GET /v1/entries": (set(ROLES), {}),
    "GET /v1/findings": (set(ROLES), {}),
    "GET /v1/state": (set(ROLES), {}),
    "POST /v1/entries": ({"party"}, {"public": 401, "witness": 403, "other-party": 409}),
    "POST /v1/cosignatures": ({"witness"}, {"public": 401, "party": 403, "other-party": 403}),
    "GET /v1/inspections": ({"party", "other-party"}, {"public": 401, "witness": 403}),
    "GET /v1/inspections/RU-1": ({"party", "other-party"}, {"public": 401, "witness": 403}),
    "POST /v1/inspections/RU-1/request": ({"other-party"}, {"public": 401, "witness": 403, "party": 409}),
    "GET /v1/declarations/{decl}/full": ({"party", "other-party"}, {"public": 401, "witness": 403}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_role_matrix(env: Env, endpoint: str, role: str) -> None:
    decl = seeded(env)
    # RU asks for an inspection first, so the inspection endpoints have something to show
    ru = login(env.app_client(), env.key("RU"))
    arrival = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=49)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def request_env(author: str) -> dict[str, Any]:
        return env.envelope(author, "inspection-request", {
            "inspection": "RU-1",
            "agreement": "aegis-ashore-transparency", "obligation": "russian-visits-to-aegis-ashore",
            "method": "challenge", "site": "deveselu", "arrival": arrival})

    if "inspections" in endpoint and endpoint.startswith("GET"):
        assert ru.post("/v1/inspections/RU-1/request", json=request_env("RU")).status_code == 200
    c = client_as(env, role)
    method, path = endpoint.split(" ")
    path = path.replace("{decl}", str(decl))
    size = env.ws.log(writable=False).size()
    params: dict[str, Any] = {
        "/v1/proof/inclusion": {"index": 0}, "/v1/proof/consistency": {"old": 1, "new": size},
        "/v1/findings": {"at": "2022-04-30"}, "/v1/state": {"at": "2022-04-30"},
    }.get(path, {})
    if method == "GET":
        r = c.get(path, params=params)
    elif path == "/v1/entries":
        r = c.post(path, json=env.envelope("US"))  # with RU's token: not its own record
    elif path == "/v1/cosignatures":
        w = env.ws.witness("US")
        log = open_log(env.ws)
        scp = log.latest()
        sig = w.add_checkpoint(0, log.consistency_proof(0, scp.checkpoint.size), scp.encode())
        r = c.post(path, json={"note": scp.note.with_signature(sig).encode()})
    else:
        author = "RU" if role == "other-party" else "US"
        r = c.post(path, json=request_env(author))
    allowed, refused = MATRIX[endpoint]
    if role in allowed:
        assert r.status_code == 200, (endpoint, role, r.text)
    else:
        assert_error(r, refused[role])
        assert env.ws.log(writable=False).size() == size  # a refusal writes nothing


def test_public_entries_carry_no_bodies(env: Env) -> None:
    seeded(env)
    pub = env.app_client().get("/v1/entries").json()
    assert pub["bodies"] is False
    assert all("envelope" not in e for e in pub["entries"])
    party = login(env.app_client(), env.key("RU")).get("/v1/entries").json()
    assert party["bodies"] is True
    # the leaf hash served equals the hash of the envelope served to the party
    for row in party["entries"]:
        canon = json.dumps(row["envelope"], separators=(",", ":"), sort_keys=True,
                           ensure_ascii=False).encode()
        assert b64(leaf_hash(canon)) == row["leaf_hash"]


def test_receipts_verify_and_refusals_name_the_rule(env: Env) -> None:
    c = login(env.app_client(), env.key("US"))
    e = env.envelope("US")
    r = c.post("/v1/entries", json=e)
    assert r.status_code == 200
    rec = r.json()
    info = c.get("/v1/log").json()
    scp = open_checkpoint(rec["checkpoint"], NoteVerifier.from_vkey(info["operator_vkey"]), ORIGIN)
    leaf = env.ws.log(writable=False).leaf(rec["index"])
    verify_inclusion(rec["index"], scp.checkpoint.size, leaf_hash(leaf),
                     [base64.b64decode(p) for p in rec["inclusion_proof"]], scp.checkpoint.root)
    assert_error(c.post("/v1/entries", json=e), 409, "replay")
    forged = env.envelope("US", key=env.key("RU"))
    assert_error(c.post("/v1/entries", json=forged), 409, "not-author")
    # a batch: receipts and refusals side by side
    batch = [env.envelope("US"), env.envelope("RU")]
    out = c.post("/v1/entries", json=batch)
    assert out.status_code == 200
    res = out.json()["results"]
    assert "index" in res[0]
    assert res[1]["refused"] == "not-yours"
    # a batch refused whole: the error shape, each record's reason inside it (formerly 409 {"results"})
    size = env.ws.log(writable=False).size()
    out = c.post("/v1/entries", json=[e, env.envelope("RU")])
    assert_error(out, 409, "refused", results=True)
    err = out.json()["error"]
    assert [x["refused"] for x in err["results"]] == ["replay", "not-yours"]
    assert err["message"].startswith("none of the 2 records was appended (the log is unchanged); "
                                     "first: replay")
    out = c.post("/v1/entries", json=[e])  # one code for all: that code
    assert_error(out, 409, "replay", results=True)
    assert env.ws.log(writable=False).size() == size


def test_inspection_steps_are_judged_by_the_procedure(env: Env) -> None:
    seeded(env)
    ru = login(env.app_client(), env.key("RU"))
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"inspection": "RU-1", "agreement": "aegis-ashore-transparency",
            "obligation": "russian-visits-to-aegis-ashore", "method": "challenge", "site": "deveselu",
            "arrival": soon}
    assert_error(ru.post("/v1/inspections/RU-1/request", json=env.envelope("RU", "inspection-request", body)),
                 409, "notice")
    # a step posted under another inspection's URL, or of another kind, is refused before the log
    assert_error(ru.post("/v1/inspections/RU-9/request", json=env.envelope("RU", "inspection-request", body)),
                 409, "wrong-inspection")
    assert_error(ru.post("/v1/inspections/RU-1/commit", json=env.envelope("RU", "inspection-request", body)),
                 409, "wrong-kind")
    assert_error(ru.post("/v1/inspections/RU-1/dance", json=env.envelope("RU")), 404, "not-found")
    assert ru.get("/v1/inspections").json()["inspections"] == []


def test_error_shape_limits_and_rate(env: Env) -> None:
    c = env.app_client(Settings(max_body_bytes=2000, public_rate=1, public_burst=3))
    assert_error(c.get("/v1/nowhere"), 404, "not-found")
    assert_error(c.get("/v1/proof/inclusion", params={"index": -1}), 422, "invalid-request")
    assert_error(c.get("/v1/findings", params={"at": "yesterday"}), 422, "invalid-request")
    party = login(env.app_client(Settings(max_body_bytes=2000)), env.key("US"))
    assert_error(party.post("/v1/entries", content=b"x" * 3000,
                            headers={"Content-Type": "application/json"}), 413, "too-large")
    assert_error(party.post("/v1/entries", content=b"{not json",
                            headers={"Content-Type": "application/json"}), 422, "invalid-request")
    statuses = [c.get("/v1/log").status_code for _ in range(8)]
    assert 429 in statuses
    r = c.get("/v1/log")
    assert_error(r, 429, "rate-limited")
    assert int(r.headers["Retry-After"]) >= 1


def test_findings_state_and_full_declaration(env: Env) -> None:
    decl = seeded(env)
    pub = env.app_client()
    st = pub.get("/v1/state", params={"at": "2022-04-30"}).json()
    assert st["declarations"]["US"] == {"as_of": "2022-03-01", "index": decl,
                                        "aggregates": {"interceptors": 24}, "committed": True}
    f = pub.get("/v1/findings", params={"at": "2022-04-30"}).json()
    assert {x["agreement"] for x in f["findings"]} == {"aegis-ashore-transparency"}
    assert all(x["hypothetical"] for x in f["findings"])
    full = login(env.app_client(), env.key("RU")).get(f"/v1/declarations/{decl}/full").json()
    assert full["records"][0]["record"]["category"] == "SM-3"
    assert_error(login(env.app_client(), env.key("RU")).get("/v1/declarations/0/full"), 404)


def test_a_chunked_body_without_a_length_is_capped(env: Env) -> None:
    party = login(env.app_client(Settings(max_body_bytes=2000)), env.key("US"))

    def chunks() -> Any:
        for _ in range(10):
            yield b" " * 500

    r = party.post("/v1/entries", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(r, 413, "too-large")


def test_huge_indices_are_refused_not_crashed_on(env: Env) -> None:
    """Found by schemathesis: a size past SQLite's 64-bit integers raised OverflowError (a 500)."""
    seeded(env)
    c = env.app_client()
    cases: list[tuple[str, dict[str, int]]] = [
        ("/v1/checkpoint", {"size": 2**63}), ("/v1/proof/inclusion", {"index": 2**63}),
        ("/v1/proof/consistency", {"old": 0, "new": 2**63}), ("/v1/entries", {"start": 2**63})]
    for path, params in cases:
        assert_error(c.get(path, params=params), 422, "invalid-request")
    party = login(env.app_client(), env.key("US"))
    assert_error(party.get("/v1/declarations/-1/full"), 422, "invalid-request")


# ---------------------------------------------------------------- hostile bodies (security review)

BODY_ENDPOINTS = ["/v1/entries", "/v1/inspections/RU-1/request", "/v1/auth/challenge", "/v1/auth/token",
                  "/v1/cosignatures"]


def nested(depth: int, kind: str) -> bytes:
    if kind == "arrays":
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("kind", ["arrays", "objects"])
@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_deeply_nested_json_is_refused_before_parsing(env: Env, path: str, kind: str) -> None:
    """A body 100,000 deep answered 500 `internal (RecursionError)` (json.loads recursed; the
    pydantic endpoints said 400 `http`). Every endpoint that parses a body now answers 422
    `too-deep`, the bound being 64 levels: 64 passes to the endpoint, 65 does not."""
    from detente.service.app import MAX_JSON_DEPTH

    assert MAX_JSON_DEPTH == 64
    c = client_as(env, "party")
    size = env.ws.log(writable=False).size()
    for depth in (100_000, MAX_JSON_DEPTH + 1):
        r = c.post(path, content=nested(depth, kind), headers={"Content-Type": "application/json"})
        assert_error(r, 422, "too-deep")
    unclosed = c.post(path, content=b"[" * 100_000, headers={"Content-Type": "application/json"})
    assert_error(unclosed, 422, "too-deep")
    r = c.post(path, content=nested(MAX_JSON_DEPTH, kind), headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["code"] != "too-deep", r.text
    # brackets inside strings are text, not nesting
    text = json.dumps({"keyid": "[" * 1000, "note": "{" * 1000}).encode()
    r = c.post(path, content=text, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["code"] != "too-deep", r.text
    assert env.ws.log(writable=False).size() == size


def test_json_depth_scan() -> None:
    from detente.service.app import json_too_deep

    for kind in ("arrays", "objects"):
        assert not json_too_deep(nested(64, kind))
        assert json_too_deep(nested(65, kind))
    assert not json_too_deep(json.dumps(["[" * 100, {"k\\\"[[": "\\" * 7 + "[" * 100}]).encode())
    assert json_too_deep(b"[" * 65)  # unclosed: as deep as a parser would go before failing
    assert not json_too_deep(b"]" * 100_000)


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_bodies_must_be_declared_json(env: Env, path: str) -> None:
    c = client_as(env, "party")
    body = json.dumps(env.envelope("US")).encode()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1",
                  "application/jsonx", None):
        headers = {"Content-Type": ctype} if ctype else {}
        assert_error(c.post(path, content=body, headers=headers), 415, "unsupported-media-type")
    assert_error(c.post(path, content=b'{"keyid": "\xff"}', headers={"Content-Type": "application/json"}),
                 422, "invalid-request")


def test_append_takes_exactly_an_envelope_or_a_list_of_envelopes(env: Env) -> None:
    """`null` answered 409 {"results": …}, a JSON string wrapping an envelope was appended, and a
    text/plain body was read as JSON. Only the documented forms are taken now."""
    c = client_as(env, "party")
    size = env.ws.log(writable=False).size()
    e = env.envelope("US")
    for body, words in [(None, "the body is null"), (json.dumps(e), "the body is a string"), (5, "a number"),
                        ([e, json.dumps(e)], "item 1 of the list is a string"), ([e, None], "item 1"),
                        ([[e]], "item 0 of the list is a list"), ([], "send 1 to 1000 envelopes")]:
        r = c.post("/v1/entries", content=json.dumps(body).encode(),
                   headers={"Content-Type": "application/json"})
        assert_error(r, 422, "invalid-request")
        assert words in r.json()["error"]["message"], (body, r.text)
    r = c.post("/v1/inspections/RU-1/request", json=[e])
    assert_error(r, 422, "invalid-request")
    assert env.ws.log(writable=False).size() == size
    for ctype in ("application/json", "application/json; charset=utf-8", 'application/json; charset="UTF-8"'):
        r = c.post("/v1/entries", content=json.dumps(env.envelope("US")).encode(),
                   headers={"Content-Type": ctype})
        assert r.status_code == 200, (ctype, r.text)
    r = c.post("/v1/entries", content=json.dumps([env.envelope("US")]).encode(),
               headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert set(r.json()) == {"results"}


def test_openapi_documents_the_append_body(env: Env) -> None:
    doc = env.app_client().get("/openapi.json").json()
    body = doc["paths"]["/v1/entries"]["post"]["requestBody"]
    assert list(body["content"]) == ["application/json"]
    one, many = body["content"]["application/json"]["schema"]["oneOf"]
    assert (one["type"], many["type"]) == ("object", "array")
    assert many["items"] == one


def test_client_reads_the_one_error_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    from detente.errors import RecordRefused
    from detente.service.client import BatchRefused, Client, ServiceError

    c = Client("http://127.0.0.1:9")
    answers: list[tuple[int, Any]] = [
        (409, {"error": {"code": "replay", "message": "m",
                         "results": [{"refused": "replay", "message": "m"}]}}),
        (409, {"error": {"code": "not-author", "message": "bad"}}),
        (422, {"error": {"code": "too-deep", "message": "deep"}}),
        (500, "<html>"),
    ]
    monkeypatch.setattr(c, "request", lambda *a, **k: answers.pop(0))
    with pytest.raises(BatchRefused) as batch:
        c.append([{}])
    assert (batch.value.code, batch.value.results) == ("replay", [{"refused": "replay", "message": "m"}])
    with pytest.raises(RecordRefused) as one:
        c.append({})
    assert (one.value.code, one.value.message) == ("not-author", "bad")
    with pytest.raises(ServiceError) as other:
        c.append({})
    assert (other.value.status, other.value.code) == (422, "too-deep")
    with pytest.raises(ServiceError) as crashed:
        c.append({})
    assert crashed.value.code == "http"
