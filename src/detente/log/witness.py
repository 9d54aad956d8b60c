"""A witness: a party's own guard against a log that shows different histories to different eyes.

Each party runs one. It remembers the last checkpoint it cosigned and cosigns a new one only
when the operator proves, with a consistency proof, that the new tree extends the old. A log that
forks (two trees that do not extend one another) or rolls back (a smaller tree than one already
signed) is refused, and the two operator-signed checkpoints are kept as evidence: anyone with
the operator's public key can check them, so the refusal is proof of misbehaviour, not hearsay.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from detente.codec import b64
from detente.envelope.keys import SigningKey
from detente.errors import ConfigError, ForkDetected, NoteError, ProofError
from detente.fsutil import atomic_write
from detente.log.merkle import verify_consistency
from detente.log.note import NoteSignature, NoteVerifier, cosign, open_checkpoint


@dataclass(frozen=True)
class WitnessState:
    size: int
    note: str


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
        return self.state_dir / "state.json"

    def state(self) -> WitnessState | None:
        try:
            data = json.loads(self._state_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"witness state {self._state_path} is unreadable: {exc}") from exc
        if data.get("origin") != self.origin:
            raise ConfigError(f"witness state {self._state_path} belongs to another log")
        return WitnessState(int(data["size"]), str(data["note"]))

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
        st = self.state()
        have = 0 if st is None else st.size
        if old_size != have:
            raise NoteError(
                f"conflict: the witness last cosigned size {have}, not {old_size}; "
                f"send a consistency proof from {have}"
            )
        if st is not None:
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
            raise ProofError("a first checkpoint needs no consistency proof")
        sig = cosign(scp.note.text, self.name, self.key, int(self.clock()))
        # Remember before answering: a crash after cosigning must not let the witness forget.
        state = {"origin": self.origin, "size": new.size, "note": checkpoint}
        atomic_write(self._state_path, json.dumps(state, indent=2).encode())
        return sig
