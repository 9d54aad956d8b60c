"""Making records: the author's side of the envelope (header, canonical payload, signature)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from detente.envelope.canonical import canonicalize
from detente.envelope.dsse import Envelope, sign
from detente.envelope.keys import SigningKey
from detente.model.records import format_time, payload_type


def make_record(
    kind: str,
    author: str,
    seq: int,
    body: dict[str, Any],
    key: SigningKey,
    *,
    log: str,
    signed_at: datetime,
    cosigners: tuple[SigningKey, ...] = (),
) -> Envelope:
    payload = {
        "kind": kind, "author": author, "seq": seq, "signed_at": format_time(signed_at),
        "log": log, "body": body,
    }
    return sign(payload_type(kind), canonicalize(payload), (key, *cosigners))
