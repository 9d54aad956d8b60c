"""Who is asking: short-lived bearer tokens obtained by signing a server challenge.

A party proves it holds a registered key by signing, with Ed25519,

    "detente-auth/v1\\n" ‖ log origin ‖ "\\n" ‖ challenge (base64, as issued) ‖ "\\n"

where the challenge is 32 random bytes the server issued for that key id less than a minute ago
and has not seen answered (single use). It gets back a random 256-bit token, valid for 15 minutes,
that names the party and the roles of the key that signed. The domain string and the origin stop a
signature made for another purpose or another log from being replayed here; single-use challenges
stop a captured answer from being replayed at all.

Why not per-request signatures (RFC 9421): a token costs one Ed25519 verification per session, not
per request, and a request needs no canonicalisation of headers; the envelopes a party appends are
signed by it anyway, so the token only decides who may *ask*, never what the log accepts.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from detente.codec import b64, unb64
from detente.envelope.keys import Verifier
from detente.errors import DetenteError, SignatureError
from detente.model.parties import Registry, Role

CHALLENGE_TTL = 60.0
TOKEN_TTL = 15 * 60.0
DOMAIN = "detente-auth/v1"
MAX_PENDING = 10_000


class AuthError(DetenteError):
    """Not authenticated, or not allowed."""

    code = "unauthorized"


@dataclass(frozen=True)
class Principal:
    party: str
    keyid: str
    roles: frozenset[Role]
    note_name: str | None
    expires: float


def auth_message(origin: str, challenge: str) -> bytes:
    return f"{DOMAIN}\n{origin}\n{challenge}\n".encode()


class Authenticator:
    """Challenges and tokens, in memory (a restart logs everyone out, which is the safe failure)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._challenges: dict[str, tuple[str, float]] = {}  # challenge -> (keyid, expiry)
        self._tokens: dict[str, Principal] = {}
        self._now = time.monotonic

    def challenge(self, keyid: str) -> tuple[str, float]:
        if self.registry.lookup(keyid) is None:
            raise AuthError(f"key {keyid} is not registered in this log's registry", code="unknown-key")
        now = self._now()
        c = b64(secrets.token_bytes(32))
        with self._lock:
            self._gc(now)
            if len(self._challenges) >= MAX_PENDING:
                raise AuthError("too many pending challenges; try again shortly", code="busy")
            self._challenges[c] = (keyid, now + CHALLENGE_TTL)
        return c, CHALLENGE_TTL

    def token(self, keyid: str, challenge: str, signature: str) -> tuple[str, Principal]:
        now = self._now()
        with self._lock:
            issued = self._challenges.pop(challenge, None)  # single use, whatever happens next
        if issued is None or issued[1] < now:
            raise AuthError("unknown, used or expired challenge: ask for a new one", code="challenge")
        if issued[0] != keyid:
            raise AuthError("the challenge was issued for another key", code="challenge")
        found = self.registry.lookup(keyid)
        if found is None:
            raise AuthError(f"key {keyid} is not registered", code="unknown-key")
        party, key = found
        try:
            sig = unb64(signature, what="signature")
        except ValueError as exc:
            raise AuthError(str(exc), code="bad-signature") from exc
        try:
            Verifier(key.public_key).verify(sig, auth_message(self.registry.origin, challenge))
        except SignatureError as exc:
            raise AuthError("the signature over the challenge does not verify with that key",
                            code="bad-signature") from exc
        tok = b64(secrets.token_bytes(32))
        p = Principal(party, keyid, key.roles, key.note_name, now + TOKEN_TTL)
        with self._lock:
            self._tokens[tok] = p
        return tok, p

    def principal(self, authorization: str | None) -> Principal | None:
        """The caller behind an `Authorization: Bearer …` header; None for the public."""
        if not authorization:
            return None
        scheme, _, tok = authorization.partition(" ")
        if scheme.lower() != "bearer" or not tok:
            raise AuthError("use `Authorization: Bearer TOKEN` "
                            "(POST /v1/auth/challenge, then /v1/auth/token)")
        with self._lock:
            p = self._tokens.get(tok.strip())
            if p is not None and p.expires < self._now():
                del self._tokens[tok.strip()]
                p = None
        if p is None:
            raise AuthError("unknown or expired token: authenticate again", code="token")
        return p

    def _gc(self, now: float) -> None:
        for c in [c for c, (_, exp) in self._challenges.items() if exp < now]:
            del self._challenges[c]
        for t in [t for t, p in self._tokens.items() if p.expires < now]:
            del self._tokens[t]
