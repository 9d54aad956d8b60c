"""The common header every record carries, and which roles may author each kind.

The header binds a statement to its author, its place in the author's sequence, the moment it
was signed and the log it was written for. The last of these stops a record signed for one log
(a rehearsal, say) from being replayed into another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from detente.model.parties import Role

PAYLOAD_TYPE_PREFIX = "application/vnd.detente."
PAYLOAD_TYPE_SUFFIX = "+json"

#: Record kinds and the roles whose keys may author them. Later modules add kinds here.
RECORD_KINDS: dict[str, frozenset[Role]] = {
    "declaration": frozenset({Role.DECLARANT}),
    "notification": frozenset({Role.DECLARANT}),
    "exchange": frozenset({Role.DECLARANT}),
    "statement": frozenset({Role.DECLARANT, Role.INSPECTOR}),
    "inspection-request": frozenset({Role.INSPECTOR}),
    "inspection-report": frozenset({Role.INSPECTOR}),
    # The inspection procedure (detente.inspection): the inspected party acts as a declarant.
    "inspection-commit": frozenset({Role.INSPECTOR, Role.DECLARANT}),
    "inspection-reveal": frozenset({Role.INSPECTOR, Role.DECLARANT}),
    "inspection-default": frozenset({Role.INSPECTOR, Role.DECLARANT}),
    "inspection-opening": frozenset({Role.DECLARANT}),
    "inspection-countersign": frozenset({Role.DECLARANT}),
    "inspection-ambiguity": frozenset({Role.INSPECTOR, Role.DECLARANT}),
    "inspection-refusal": frozenset({Role.DECLARANT}),
}

HEADER_FIELDS = ("author", "body", "kind", "log", "seq", "signed_at")

_KIND = re.compile(r"^[a-z][a-z0-9-]{0,63}\Z")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def payload_type(kind: str) -> str:
    return f"{PAYLOAD_TYPE_PREFIX}{kind}{PAYLOAD_TYPE_SUFFIX}"


def kind_of_payload_type(ptype: str) -> str | None:
    if ptype.startswith(PAYLOAD_TYPE_PREFIX) and ptype.endswith(PAYLOAD_TYPE_SUFFIX):
        kind = ptype[len(PAYLOAD_TYPE_PREFIX) : -len(PAYLOAD_TYPE_SUFFIX)]
        if _KIND.match(kind):
            return kind
    return None


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """RFC 3339 UTC with second precision and a 'Z', the only form records use."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise ValueError(f"time {text!r} must be RFC 3339 UTC like 2022-03-01T00:00:00Z")
    # By hand: strptime costs ~12 µs, a measurable share of the log's ingest budget. datetime()
    # itself refuses impossible dates (month 13, 30 February, hour 25) with ValueError.
    return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]),
                    int(text[14:16]), int(text[17:19]), tzinfo=UTC)


@dataclass(frozen=True)
class Header:
    kind: str
    author: str
    seq: int
    signed_at: str
    log: str
    #: signed_at as parsed when the header was checked (the log's clock check needs it).
    signed_time: datetime = field(compare=False, repr=False)

    @classmethod
    def from_payload(cls, payload: Any) -> Header:
        """Read and check the header fields; raise ValueError naming the bad field."""
        if not isinstance(payload, dict):
            raise ValueError("payload must be a JSON object")
        missing = [f for f in HEADER_FIELDS if f not in payload]
        if missing:
            raise ValueError(f"payload is missing field(s): {', '.join(missing)}")
        if len(payload) != len(HEADER_FIELDS):
            extra = sorted(set(payload) - set(HEADER_FIELDS))
            raise ValueError(f"payload has unknown top-level field(s) {', '.join(extra)}; "
                             "put record content under 'body'")
        kind, author, seq = payload["kind"], payload["author"], payload["seq"]
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise ValueError(f"field 'kind' must be a lower-case record kind, got {kind!r}")
        if not isinstance(author, str) or not author:
            raise ValueError("field 'author' must be a party id")
        if type(seq) is not int or seq < 1:
            raise ValueError(f"field 'seq' must be a positive integer, got {seq!r}")
        signed_at = payload["signed_at"]
        try:
            signed_time = parse_time(signed_at)  # the format, and a real date and time
        except ValueError as exc:
            raise ValueError(f"field 'signed_at': {exc}") from exc
        if not isinstance(payload["log"], str):
            raise ValueError("field 'log' must be the log origin string")
        if not isinstance(payload["body"], dict):
            raise ValueError("field 'body' must be a JSON object")
        return cls(kind, author, seq, signed_at, payload["log"], signed_time)


@dataclass(frozen=True)
class LoggedRecord:
    """A record as the log holds it: its place, its header and body, and the signed leaf itself.

    The one type every reader of the log works with (the projection, the inspection procedure,
    the desk, the views). `leaf` is the canonical DSSE envelope the log committed to; a view that
    needs the signatures (an inspection report and its countersignature) parses it again from
    there (`detente.envelope.record.envelope_of`), so nothing is decoded twice on the hot path.
    """

    index: int
    kind: str
    author: str
    seq: int
    signed_at: datetime
    body: Mapping[str, Any]
    leaf: bytes = field(default=b"", compare=False, repr=False)
