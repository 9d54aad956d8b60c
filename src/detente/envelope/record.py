"""A record from both ends: made (header, canonical payload, signature) and read back from a leaf.

`make_record` is the author's side. `read_record` is the one parser from a logged leaf to the one
logged-record type (`model.records.LoggedRecord`): the log checked the leaf at its door, so here
it is only decoded, never judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from detente.envelope.canonical import canonicalize, parse_json
from detente.envelope.dsse import Envelope, parse_envelope, sign
from detente.envelope.keys import SigningKey
from detente.model.records import LoggedRecord, format_time, parse_time, payload_type

__all__ = ["envelope_of", "make_record", "read_record", "read_records"]


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


def read_record(index: int, leaf: bytes) -> LoggedRecord:
    """The logged record at `index` from its leaf (a canonical DSSE envelope the log admitted)."""
    env = parse_envelope(leaf)
    p = parse_json(env.payload)
    return LoggedRecord(index, p["kind"], p["author"], p["seq"], parse_time(p["signed_at"]), p["body"],
                        leaf)


def read_records(leaves: Iterable[tuple[int, bytes]]) -> Iterator[LoggedRecord]:
    for index, leaf in leaves:
        yield read_record(index, leaf)


def envelope_of(record: LoggedRecord) -> Envelope:
    """The signed envelope of a logged record (its signatures, its PAE)."""
    if not record.leaf:
        raise ValueError(f"record {record.index} was built without its leaf; read it from the log")
    return parse_envelope(record.leaf)
