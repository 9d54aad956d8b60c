"""A witness: a party's own guard against a log that shows different histories to different eyes.

Each party runs one. It remembers the last checkpoint it cosigned and cosigns a new one only
when the operator proves, with a consistency proof, that the new tree extends the old. A log that
forks (two trees that do not extend one another) or rolls back (a smaller tree than one already
signed) is refused, and the two operator-signed checkpoints are kept as evidence: anyone with
the operator's public key can check them, so the refusal is proof of misbehaviour, not hearsay.

The remembered checkpoint is the witness's whole defence, so it never trusts on first use: a
witness cosigns only from a state it was explicitly given. A new witness is initialised to the
empty tree where its key is made (`initialise()`; any checkpoint extends the empty tree, and every
later one must extend that). A witness whose state is missing or damaged refuses to cosign until
its operator re-seeds it with `initialise(checkpoint)` from a checkpoint checked by hand
(`detente witness init`, docs/log.md "Witness state"); silently starting over would let a log
that forked while the state was gone be cosigned without a word. The state is written atomically
and fsync'd (fsutil.atomic_write) before any cosignature leaves the witness.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from detente.codec import b64
from detente.envelope.keys import SigningKey
from detente.errors import (
    ForkDetected,
    NoteError,
    ProofError,
    WitnessStateCorrupt,
    WitnessStateError,
    WitnessStateMissing,
)
from detente.fsutil import atomic_write
from detente.log.merkle import verify_consistency
from detente.log.note import NoteSignature, NoteVerifier, cosign, open_checkpoint

STATE_FILE = "state.json"


@dataclass(frozen=True)
class WitnessState:
    """The last checkpoint the witness vouches for: `note` is its operator-signed text, or None
    for the empty tree (size 0) a new witness starts from."""

    size: int
    note: str | None


def _empty_state(origin: str) -> dict[str, object]:
    return {"origin": origin, "size": 0, "note": None}


def initialise_new_witness(state_dir: Path, origin: str) -> None:
    """Start a new witness of the log `origin` from the empty tree, in `state_dir`.

    For the place where a witness key is made or registered (it needs neither the private key nor
    the operator's): the state exists before the witness first cosigns, so the witness never
    trusts on first use. Nothing changes if the state already is the empty tree; any other state
    is refused (`Witness.initialise(..., replace=True)` is the deliberate way to replace it).
    """
    path = state_dir / STATE_FILE
    if path.exists():
        try:
            same = json.loads(path.read_bytes()) == _empty_state(origin)
        except (OSError, ValueError):
            same = False
        if same:
            return
        raise WitnessStateError(
            f"{path} already holds witness state; a witness starts from the empty tree only when "
            "its key is new. Keep that state, or replace it deliberately with `detente witness "
            "init PARTY --workspace DIR --checkpoint FILE --replace` (docs/log.md, \"Witness "
            "state\")"
        )
    atomic_write(path, json.dumps(_empty_state(origin), indent=2).encode())


class Witness:
    def __init__(
        self,
        name: str,
        key: SigningKey,
        operator: NoteVerifier,
        origin: str,
        state_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.key = key
        self.operator = operator
        self.origin = origin
        self.state_dir = state_dir
        self.clock = clock

    @property
    def _state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    def _reseed_command(self, replace: bool = False) -> str:
        # In a workspace the state lives in DIR/witness/<PARTY>/.
        d = self.state_dir
        party, ws = (d.name, str(d.parent.parent)) if d.parent.name == "witness" else ("PARTY", "DIR")
        extra = " --replace" if replace else ""
        return f"`detente witness init {party} --workspace {ws} --checkpoint FILE{extra}`"

    def state(self) -> WitnessState:
        """The trusted state; WitnessStateMissing if there is none, WitnessStateCorrupt if it
        cannot be trusted. Never None: a witness without state must not cosign."""
        path = self._state_path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise WitnessStateMissing(
                f"witness {self.name} has no state ({path} does not exist): it does not know "
                "which checkpoint it last cosigned, so it refuses to cosign (it could be made to "
                "vouch for a forked log). If the state was lost, re-seed it from a checkpoint you "
                "have checked by hand (one this witness cosigned before, as published or kept by "
                f"another party): {self._reseed_command()}; see docs/log.md, \"Witness state\". "
                "A new witness is initialised when its key is made (`detente party "
                "--witness-name`)"
            ) from None
        except OSError as exc:
            raise self._corrupt(f"cannot be read: {exc}") from exc
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            origin, size, note = data["origin"], data["size"], data["note"]
            if not isinstance(origin, str):
                raise ValueError("origin is not a string")
            if type(size) is not int or size < 0:
                raise ValueError(f"size {size!r} is not a tree size")
            if not (isinstance(note, str) or (note is None and size == 0)):
                raise ValueError("note is not a checkpoint")
        except (ValueError, KeyError) as exc:
            raise self._corrupt(f"is malformed ({exc})") from exc
        if origin != self.origin:
            raise self._corrupt(f"belongs to another log ({origin!r}, not {self.origin!r})")
        if note is not None:
            try:
                cp = open_checkpoint(note, self.operator, self.origin).checkpoint
            except NoteError as exc:
                raise self._corrupt(f"holds a checkpoint this log's operator did not sign: {exc}") from exc
            if cp.size != size:
                raise self._corrupt(f"says size {size} but its checkpoint has size {cp.size}")
        return WitnessState(size, note)

    def _corrupt(self, detail: str) -> WitnessStateCorrupt:
        return WitnessStateCorrupt(
            f"witness state {self._state_path} {detail}; the witness refuses to cosign until it "
            "is repaired. Restore the file from a backup, or re-seed it from a checkpoint you "
            f"have checked by hand: {self._reseed_command(replace=True)}; see docs/log.md, "
            "\"Witness state\""
        )

    def initialise(self, checkpoint: str | None = None, *, replace: bool = False) -> WitnessState:
        """Give the witness the state it will defend, explicitly; the only way it gets one other
        than by cosigning.

        Without `checkpoint`: the empty tree (size 0), for a witness whose key was just made;
        calling it again on a witness still at the empty tree changes nothing. With `checkpoint`:
        that checkpoint, once its operator signature and origin verify, for re-seeding a witness
        whose state was lost; whoever runs this must have checked by hand that it is a checkpoint
        this witness should vouch for (every later cosignature must extend it). An existing
        state, readable or not, is replaced only with `replace`; the old file is kept beside it.
        """
        if checkpoint is None:
            size, note = 0, None
        else:
            scp = open_checkpoint(checkpoint, self.operator, self.origin)
            size, note = scp.checkpoint.size, scp.encode()
        path = self._state_path
        if path.exists() and not replace:
            have = self.state()  # a damaged state: its error says to add --replace
            if have == WitnessState(size, note):
                return have
            raise WitnessStateError(
                f"witness {self.name} already has state: it vouches for size {have.size} "
                f"({path}); a witness's state moves only forward, by cosigning. To replace it "
                f"anyway (after checking the new checkpoint by hand), use "
                f"{self._reseed_command(replace=True)}"
            )
        if path.exists():
            # Kept beside it: it may be evidence of what the witness vouched for before.
            old = path.with_name(f"{STATE_FILE}.replaced-{int(self.clock() * 1000)}")
            try:
                os.link(path, old)  # the old state stays in place until the new one replaces it
            except OSError:
                path.replace(old)
        self._write_state(size, note)
        return WitnessState(size, note)

    def _write_state(self, size: int, note: str | None) -> None:
        state = {"origin": self.origin, "size": size, "note": note}
        atomic_write(self._state_path, json.dumps(state, indent=2).encode())

    def _evidence(self, kind: str, old: str, new: str, detail: str) -> ForkDetected:
        evidence = {"kind": kind, "origin": self.origin, "previous": old, "presented": new,
                    "detail": detail}
        stamp = int(self.clock() * 1000)
        folder = self.state_dir / "evidence"
        n = 0
        while (path := folder / f"{kind}-{stamp}-{n}.json").exists():
            n += 1  # never overwrite evidence, even two refusals in one clock tick
        atomic_write(path, json.dumps(evidence, indent=2).encode())
        return ForkDetected(
            f"{kind}: the log presented a checkpoint that does not extend the one this witness "
            f"cosigned ({detail}); refused. Both signed checkpoints are kept in {path} as "
            "evidence: publish them to the other parties",
            evidence=evidence,
        )

    def add_checkpoint(
        self, old_size: int, proof: Sequence[bytes], checkpoint: str
    ) -> NoteSignature:
        """The C2SP tlog-witness add-checkpoint step: verify, remember, cosign.

        `old_size` must be the size this witness last cosigned (the log learns it from the
        witness's previous cosignature); a mismatch is a retryable conflict, not a fork.
        """
        scp = open_checkpoint(checkpoint, self.operator, self.origin)
        new = scp.checkpoint
        st = self.state()  # refuses (WitnessStateError) without a trusted state: never TOFU
        have = st.size
        if old_size != have:
            raise NoteError(
                f"conflict: the witness last cosigned size {have}, not {old_size}; "
                f"send a consistency proof from {have}"
            )
        if st.note is not None:
            old = open_checkpoint(st.note, self.operator, self.origin).checkpoint
            if new.size < old.size:
                raise self._evidence(
                    "rollback", st.note, checkpoint,
                    f"size {new.size} is smaller than the {old.size} already cosigned",
                )
            try:
                verify_consistency(old.size, new.size, old.root, new.root, proof)
            except ProofError as exc:
                raise self._evidence(
                    "fork", st.note, checkpoint,
                    f"sizes {old.size} → {new.size}: {exc}; proof was "
                    f"[{', '.join(b64(p) for p in proof)}]",
                ) from exc
        elif proof:
            raise ProofError("a first checkpoint needs no consistency proof (it extends the empty tree)")
        sig = cosign(scp.note.text, self.name, self.key, int(self.clock()))
        # Remember (durably: written, fsync'd, renamed) before answering: a crash after
        # cosigning must not let the witness forget.
        self._write_state(new.size, checkpoint)
        return sig
