"""A workspace on disk: the party registry, the log database, and (for demos and drills) keys.

    DIR/keys.json          the registry: parties, public keys, roles; the log's origin and key
    DIR/log.db             the SQLite log (or --db URL for PostgreSQL, recorded in DIR/db.url)
    DIR/secrets/*.key      private keys, mode 0600 (in a real deployment each party keeps its own)
    DIR/witness/<PARTY>/   each witness's state and any fork evidence
    DIR/agreements.json    the agreements whose procedures this log enforces (paths and digests)
    DIR/proposals.json     proposals under negotiation, shown beside them (paths and digests)
    DIR/analysis/          the regime analysis the user asked for (`detente analyze compare`)
    DIR/disclosed/         full committed declarations received from treaty partners

Keeping keys in one directory is a convenience for the demo and for two people running both
sides on one machine; every verb also accepts a key file from anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detente.envelope.keys import SigningKey, read_private_key, write_private_key
from detente.errors import ConfigError
from detente.fsutil import atomic_write, mkdir_with_mode
from detente.log.sqlstore import SQLStore, sqlite_url
from detente.log.transparency import TransparencyLog
from detente.log.trust import operator_verifier
from detente.log.witness import Witness, initialise_new_witness
from detente.model.parties import Party, PartyKey, Registry, Role

if TYPE_CHECKING:
    from detente.agreement.model import Agreement

__all__ = ["Workspace"]

KEYS_FILE = "keys.json"
DB_FILE = "log.db"
AGREEMENTS_FILE = "agreements.json"
PROPOSALS_FILE = "proposals.json"
#: The database URL given at creation, if not the default; mode 0600 (it may hold a password).
DB_URL_FILE = "db.url"


@dataclass
class Workspace:
    path: Path
    db_url: str | None = None

    @property
    def keys_path(self) -> Path:
        return self.path / KEYS_FILE

    @property
    def secrets(self) -> Path:
        return self.path / "secrets"

    @property
    def url(self) -> str:
        """--db, else DETENTE_DB, else the URL `init --db` recorded, else DIR/log.db (SQLite)."""
        if self.db_url or os.environ.get("DETENTE_DB"):
            return self.db_url or os.environ["DETENTE_DB"]
        recorded = self.path / DB_URL_FILE
        if recorded.exists():
            try:
                return recorded.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"cannot read {recorded}: {exc}") from exc
        return sqlite_url(self.path / DB_FILE)

    @classmethod
    def create(
        cls, path: Path | str, origin: str, *, db_url: str | None = None,
        operator_name: str | None = None,
    ) -> Workspace:
        """A new workspace with a fresh log operator key and an empty log."""
        path = Path(path)
        if (path / KEYS_FILE).exists():
            raise ConfigError(f"{path} already holds a workspace; choose another directory")
        mkdir_with_mode(path, 0o755)  # never group- or world-writable, whatever the umask (open)
        ws = cls(path, db_url)
        if db_url:
            atomic_write(path / DB_URL_FILE, (db_url + "\n").encode(), mode=0o600)
        op = SigningKey.generate()
        write_private_key(ws.secrets / "operator.key", op)
        reg = Registry(
            origin=origin,
            operator=PartyKey(op.public_key, frozenset({Role.LOG_OPERATOR}),
                              operator_name or origin),
        )
        ws.save_registry(reg)
        SQLStore(ws.url, create=True).close()
        return ws

    @classmethod
    def open(cls, path: Path | str, db_url: str | None = None) -> Workspace:
        path = Path(path)
        if not (path / KEYS_FILE).exists():
            raise ConfigError(
                f"{path} is not a Détente workspace (no {KEYS_FILE}); create one with "
                "`detente init --workspace DIR` or run `detente demo`"
            )
        # As OpenSSH does with ~/.ssh: whoever can write here can swap the registry or the keys.
        from detente.fsutil import refuse_if_writable_by_others

        refuse_if_writable_by_others(path, "workspace directory")
        if (path / "secrets").exists():
            refuse_if_writable_by_others(path / "secrets", "workspace secrets directory")
        return cls(path, db_url)

    def registry(self) -> Registry:
        try:
            data = json.loads(self.keys_path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {self.keys_path}: {exc}") from exc
        return Registry.from_json(data)

    def save_registry(self, reg: Registry) -> None:
        atomic_write(self.keys_path, (json.dumps(reg.to_json(), indent=2) + "\n").encode())

    def add_party(
        self, party_id: str, name: str, *, roles: frozenset[Role], witness_name: str | None,
        key: SigningKey | None = None, witness_key: SigningKey | None = None,
    ) -> tuple[SigningKey, SigningKey | None]:
        """Register a party with a signing key and, if `witness_name`, a separate witness key."""
        reg = self.registry()
        key = key or SigningKey.generate()
        keys = [PartyKey(key.public_key, roles)]
        wkey = None
        if witness_name:
            wkey = witness_key or SigningKey.generate()
            keys.append(PartyKey(wkey.public_key, frozenset({Role.WITNESS}), witness_name))
        reg.add_party(Party(party_id, name, tuple(keys)))
        if not (self.secrets / f"{party_id}.key").exists():
            write_private_key(self.secrets / f"{party_id}.key", key)
        if wkey is not None and not (self.secrets / f"{party_id}-witness.key").exists():
            write_private_key(self.secrets / f"{party_id}-witness.key", wkey)
        self.save_registry(reg)
        if wkey is not None:  # a new witness starts from the empty tree: it never trusts on first use
            initialise_new_witness(self.path / "witness" / party_id, reg.origin)
        return key, wkey

    def store(self) -> SQLStore:
        return SQLStore(self.url)

    def operator_key(self) -> SigningKey:
        return read_private_key(self.secrets / "operator.key")

    def party_key(self, party: str) -> SigningKey:
        return read_private_key(self.secrets / f"{party}.key")

    def log(self, *, writable: bool = True, **kwargs: Any) -> TransparencyLog:
        """The log itself, with the content rules passed in `rules`.

        Parties write through `detente.desk.open_log`, which attaches the procedure of every
        adopted agreement. A writable log of a workspace that adopted agreements is refused
        without `rules`: a writer without them could log a step the procedure forbids."""
        op = self.operator_key() if writable else None
        if writable and "rules" not in kwargs and self._adopted():
            raise ConfigError(
                f"{self.path} enforces adopted agreements: open its log for writing with "
                "detente.desk.open_log(workspace), which attaches their procedure")
        return TransparencyLog(self.store(), self.registry(), op, **kwargs)

    # -- agreements the log enforces, and proposals under negotiation --

    @property
    def agreements_path(self) -> Path:
        return self.path / AGREEMENTS_FILE

    @property
    def proposals_path(self) -> Path:
        return self.path / PROPOSALS_FILE

    def adopt(self, path: Path, *, allow_outside: bool = False) -> Agreement:
        """Enforce `path`'s procedures (inspection quotas, notice, order) in this log from now on.

        The files are pinned by SHA-256: if one changes later, opening the log refuses until the
        agreement is adopted again, so the rules cannot drift silently under a running log.
        `allow_outside`: its includes may read files outside its folder (remembered, and pinned).
        """
        return self._pin(self.agreements_path, path, allow_outside)

    def propose(self, path: Path, *, allow_outside: bool = False) -> Agreement:
        """Track `path` as a proposal under negotiation: the report and the dashboard compare it
        with the others and say what it would change on the log's postures (pinned as `adopt`
        pins, so a text cannot change under a comparison unnoticed)."""
        return self._pin(self.proposals_path, path, allow_outside)

    def _adopted(self) -> list[dict[str, Any]]:
        return self._pinned(self.agreements_path)

    def agreements(self) -> list[Agreement]:
        """The adopted agreements, each checked against the digests pinned at adoption."""
        return self._load_pinned(self.agreements_path, "adopted", "agreement adopt")

    def proposals(self) -> list[Agreement]:
        """The proposals tracked with `detente negotiate propose`, checked against their digests."""
        return self._load_pinned(self.proposals_path, "tracked", "negotiate propose")

    def _pin(self, listing: Path, path: Path, allow_outside: bool) -> Agreement:
        from detente.agreement.loader import load_agreement

        ag = load_agreement(path, allow_outside=allow_outside)
        entries = [e for e in self._pinned(listing) if e["id"] != ag.id]
        entry: dict[str, Any] = {"id": ag.id, "path": str(Path(path).resolve()),
                                 "files": {str(Path(f).resolve()): _sha256(Path(f)) for f in ag.files}}
        if allow_outside:
            entry["allow_include_outside"] = True
        entries.append(entry)
        atomic_write(listing, (json.dumps(entries, indent=2) + "\n").encode())
        return ag

    def _pinned(self, listing: Path) -> list[dict[str, Any]]:
        if not listing.exists():
            return []
        try:
            data = json.loads(listing.read_text())
            assert isinstance(data, list)
            return data
        except (OSError, ValueError, AssertionError) as exc:
            raise ConfigError(f"cannot read {listing}: {exc}") from exc

    def _load_pinned(self, listing: Path, how: str, verb: str) -> list[Agreement]:
        from detente.agreement.loader import load_agreement

        out = []
        for e in self._pinned(listing):
            for f, digest in e["files"].items():
                try:
                    now = _sha256(Path(f))
                except OSError as exc:
                    raise ConfigError(f"agreement {e['id']}: cannot read {f} ({exc}); restore it or "
                                      f"run `detente {verb}` again") from exc
                if now != digest:
                    raise ConfigError(f"agreement {e['id']}: {f} changed since it was {how}; if the "
                                      f"change is agreed, run `detente {verb} {e['path']}`")
            out.append(load_agreement(e["path"], allow_outside=bool(e.get("allow_include_outside"))))
        return out

    # -- declarations received in full --

    @property
    def disclosed(self) -> Path:
        return self.path / "disclosed"

    def witness(self, party: str) -> Witness:
        reg = self.registry()
        for pid, k in reg.witnesses():
            if pid == party:
                return Witness(
                    k.note_name or "", read_private_key(self.secrets / f"{party}-witness.key"),
                    operator_verifier(reg), reg.origin, self.path / "witness" / party,
                )
        raise ConfigError(f"party {party} has no registered witness key")



def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
