"""Plain data: parties, keys and roles, the record header, the logged record. No I/O lives here.

- parties.py — `Party`, `PartyKey`, `Role`, `Registry` (the log's origin, operator and parties);
- records.py — record kinds and the roles that may sign each (`RECORD_KINDS`), the `Header` every
  record carries, and `LoggedRecord`, the one type every reader of the log works with.
"""

from detente.model.parties import Party, PartyKey, Registry, Role
from detente.model.records import RECORD_KINDS, Header, LoggedRecord, format_time, parse_time

__all__ = [
    "RECORD_KINDS",
    "Header",
    "LoggedRecord",
    "Party",
    "PartyKey",
    "Registry",
    "Role",
    "format_time",
    "parse_time",
]
