"""Parties, their keys and the roles each key may play.

Role separation is deliberate: a key that cosigns checkpoints (witness) must never be usable to
author declarations, and the log operator's key signs only checkpoints, so a compromise of one
duty does not forge another. The C2SP cosignature spec asks the same of cosigner keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from detente.codec import b64, check_public_key, key_id, unb64
from detente.errors import ConfigError

_PARTY_ID = re.compile(r"^[A-Z][A-Z0-9_-]{0,31}\Z")
_NOTE_NAME = re.compile(r"^[^\s+]+\Z")


class Role(StrEnum):
    DECLARANT = "declarant"
    INSPECTOR = "inspector"
    WITNESS = "witness"
    LOG_OPERATOR = "log-operator"


def check_party_id(party: str) -> str:
    if not _PARTY_ID.match(party):
        raise ConfigError(
            f"party id {party!r} is not valid: use 1–32 upper-case letters, digits, '-' or '_', "
            "starting with a letter (e.g. US, RU, NATO)"
        )
    return party


def check_note_name(name: str) -> str:
    if not name or not _NOTE_NAME.match(name):
        raise ConfigError(
            f"note key name {name!r} is not valid: C2SP signed notes need a non-empty name "
            "without spaces or '+' (e.g. witness.us.example)"
        )
    return name


@dataclass(frozen=True)
class PartyKey:
    public_key: bytes
    roles: frozenset[Role]
    #: Name used in C2SP signed-note lines, for witness and operator keys.
    note_name: str | None = None

    def __post_init__(self) -> None:
        # Small-order, mixed-order and non-canonical keys are refused wherever a key enters.
        check_public_key(self.public_key)

    @property
    def keyid(self) -> str:
        return key_id(self.public_key)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "keyid": self.keyid,
            "public_key": b64(self.public_key),
            "roles": sorted(r.value for r in self.roles),
        }
        if self.note_name:
            out["note_name"] = self.note_name
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, where: str) -> PartyKey:
        try:
            pub = unb64(str(data["public_key"]), what=f"{where}.public_key")
            if len(pub) != 32:
                raise ValueError(f"{where}.public_key must be 32 bytes, got {len(pub)}")
            check_public_key(pub, what=f"{where}.public_key")
            roles = frozenset(Role(r) for r in data["roles"])
        except KeyError as exc:
            raise ConfigError(f"{where}: missing field {exc.args[0]!r}") from exc
        except ValueError as exc:
            raise ConfigError(
                f"{where}: {exc}; roles are {', '.join(r.value for r in Role)}"
            ) from exc
        key = cls(pub, roles, data.get("note_name"))
        if "keyid" in data and data["keyid"] != key.keyid:
            raise ConfigError(
                f"{where}: keyid {data['keyid']} does not match the public key "
                f"(expected {key.keyid}); the file was edited or corrupted"
            )
        if key.note_name is not None:
            check_note_name(key.note_name)
        return key


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    keys: tuple[PartyKey, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "keys": [k.to_json() for k in self.keys]}


@dataclass
class Registry:
    """Who may sign what: the parties, their keys and roles, and the log operator's key.

    The registry is fixed by the agreement (keys are exchanged when it is signed); the log checks
    every record against it at the door, and offline verifiers check against the same file.
    """

    origin: str
    operator: PartyKey
    parties: dict[str, Party] = field(default_factory=dict)
    _by_keyid: dict[str, tuple[str, PartyKey]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        check_note_name(self.origin)
        if Role.LOG_OPERATOR not in self.operator.roles or not self.operator.note_name:
            raise ConfigError("the log operator key needs the log-operator role and a note name")
        parties, self.parties = self.parties, {}
        for p in parties.values():
            self.add_party(p)

    def add_party(self, party: Party) -> None:
        check_party_id(party.id)
        if party.id in self.parties:
            raise ConfigError(f"party {party.id} is already registered")
        for k in party.keys:
            if k.keyid in self._by_keyid or k.keyid == self.operator.keyid:
                raise ConfigError(f"key {k.keyid[:16]}… is already registered; keys are not shared")
            if Role.LOG_OPERATOR in k.roles:
                raise ConfigError("only the log's own operator key may hold the log-operator role")
            if Role.WITNESS in k.roles and (len(k.roles) != 1 or not k.note_name):
                raise ConfigError(
                    f"{party.id}: a witness key must hold only the witness role and have a note "
                    "name (C2SP asks for a distinct key per cosigner)"
                )
        self.parties[party.id] = party
        for k in party.keys:
            self._by_keyid[k.keyid] = (party.id, k)

    def lookup(self, keyid: str) -> tuple[str, PartyKey] | None:
        return self._by_keyid.get(keyid)

    def witnesses(self) -> list[tuple[str, PartyKey]]:
        return [
            (pid, k) for pid, p in sorted(self.parties.items()) for k in p.keys
            if Role.WITNESS in k.roles
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "detente-keys/v1",
            "log": {"origin": self.origin, "operator": self.operator.to_json()},
            "parties": [p.to_json() for _, p in sorted(self.parties.items())],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Registry:
        if not isinstance(data, Mapping) or data.get("format") != "detente-keys/v1":
            raise ConfigError("keys file is not in detente-keys/v1 format")
        try:
            log = data["log"]
            operator = PartyKey.from_json(log["operator"], where="log.operator")
            reg = cls(origin=str(log["origin"]), operator=operator)
            for i, p in enumerate(data["parties"]):
                keys = tuple(
                    PartyKey.from_json(k, where=f"parties[{i}].keys[{j}]")
                    for j, k in enumerate(p["keys"])
                )
                reg.add_party(Party(str(p["id"]), str(p.get("name", p["id"])), keys))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"keys file is missing or has a malformed field: {exc}") from exc
        return reg
