"""A small client for `detente serve`: authenticate with a party key, append, read proofs.

Standard library only (one keep-alive `http.client` connection per Client; use one per thread).
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

from detente.codec import b64
from detente.envelope.keys import SigningKey
from detente.errors import DetenteError, RecordRefused
from detente.service.auth import auth_message


class ServiceError(DetenteError):
    """The service answered with an error; `status` and `code` say which."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}", code=code)
        self.status = status


class BatchRefused(RecordRefused):
    """Every record of a batch was refused (HTTP 409; the log is unchanged). `results` holds each
    record's refusal, in order: `{"refused": code, "message": ...}`."""

    def __init__(self, message: str, *, code: str, results: list[dict[str, Any]]) -> None:
        super().__init__(message, code=code)
        self.results = results


class Client:
    def __init__(self, base_url: str, key: SigningKey | None = None, *, timeout: float = 30) -> None:
        u = urllib.parse.urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise DetenteError(f"{base_url!r} is not an http(s) URL")
        conn = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        self._conn = conn(u.hostname, u.port, timeout=timeout)
        self.key = key
        self.token: str | None = None
        self.party: str | None = None

    def close(self) -> None:
        self._conn.close()

    def request(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
                ) -> tuple[int, Any]:
        if params:
            path += "?" + urllib.parse.urlencode(params)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            self._conn.request(method, path, body=data, headers=headers)
            resp = self._conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self._conn.close()  # a dropped keep-alive connection: reconnect once
            self._conn.request(method, path, body=data, headers=headers)
            resp = self._conn.getresponse()
            raw = resp.read()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode(errors="replace")

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """The answer's JSON; an error answer (always `{"error": {"code", "message", ...}}`) raises
        RecordRefused for 409 (BatchRefused when it carries a batch's `results`), else ServiceError."""
        status, data = self.request(method, path, body, params or None)
        if status >= 400:
            err = data.get("error") if isinstance(data, dict) else None
            err = err if isinstance(err, dict) else {}
            message, code = str(err.get("message", data)), str(err.get("code", "http"))
            if status == 409 and isinstance(err.get("results"), list):
                raise BatchRefused(message, code=code, results=err["results"])
            if status == 409:
                raise RecordRefused(message, code=err.get("code", "refused"))
            raise ServiceError(status, code, message)
        return data

    def login(self) -> str:
        if self.key is None:
            raise DetenteError("this client has no key to authenticate with")
        c = self.call("POST", "/v1/auth/challenge", {"keyid": self.key.keyid})["challenge"]
        origin = self.call("GET", "/v1/log")["origin"]
        sig = self.key.sign(auth_message(origin, c))
        got = self.call("POST", "/v1/auth/token", {"keyid": self.key.keyid, "challenge": c,
                                                    "signature": b64(sig)})
        self.token, self.party = got["token"], got["party"]
        return str(got["party"])

    def append(self, envelope: dict[str, Any] | list[dict[str, Any]]) -> Any:
        """One envelope: its receipt. A list: `{"results": [receipt or refusal, ...]}` if any was
        appended; if none was, BatchRefused (its `results` says why, record by record)."""
        return self.call("POST", "/v1/entries", envelope)
