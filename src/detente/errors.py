"""One hierarchy for every refusal Détente makes.

Callers catch `DetenteError` at the edge (CLI, HTTP) and show its message; each message says
what was wrong and what to do about it, because the person reading it is often the other party's
operator, not the author of the code.
"""

from __future__ import annotations


class DetenteError(Exception):
    """Root of every error Détente raises on purpose."""

    #: A short machine-readable reason code, stable across releases (used in JSON output).
    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(DetenteError):
    """A workspace, key file or option is missing or unusable."""

    code = "config"


class WitnessStateError(ConfigError):
    """A witness has no trusted record of the last checkpoint it cosigned, so it will not cosign:
    without one it could be made to vouch for a forked log. Recovery: docs/log.md, "Witness state"."""

    code = "witness-state"


class WitnessStateMissing(WitnessStateError):
    """The witness's state file is absent (never initialised, or lost)."""

    code = "witness-state-missing"


class WitnessStateCorrupt(WitnessStateError):
    """The witness's state file exists but is unreadable, malformed, or not this log's."""

    code = "witness-state-corrupt"


class BadKeyError(DetenteError):
    """A key cannot be loaded, decrypted or used for the requested role."""

    code = "key"


class SignatureError(DetenteError):
    """A signature does not verify under the key it was checked against (wrong length, forged,
    or over other bytes). Raised by `Verifier.verify`; callers turn it into their own refusal."""

    code = "bad-signature"


class CanonicalizationError(DetenteError):
    """A value cannot be expressed as RFC 8785 canonical JSON (NaN, huge integer, lone surrogate)."""

    code = "canonical"


class EnvelopeError(DetenteError):
    """An envelope is malformed or its signatures do not verify."""

    code = "envelope"


class RecordRefused(DetenteError):
    """The log refused a record at the door. The log is unchanged; `code` names the rule broken."""

    code = "refused"


class ProofError(DetenteError):
    """A Merkle proof, checkpoint or cosignature does not verify."""

    code = "proof"


class NoteError(ProofError):
    """A signed note (checkpoint) is malformed or not signed by the expected key."""

    code = "note"


class ForkDetected(ProofError):
    """A witness saw two checkpoints that cannot both be honest views of one append-only log.

    `evidence` holds both signed checkpoints: anyone holding the operator's public key can check
    that the operator signed two inconsistent trees, so the refusal itself is proof of misbehaviour.
    """

    code = "fork"

    def __init__(self, message: str, *, evidence: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.evidence = evidence or {}


class StorageError(DetenteError):
    """The store is unreadable, inconsistent or was written by something else."""

    code = "storage"


class VerificationFailed(DetenteError):
    """Offline verification of a log or bundle failed; `index` is the first bad leaf, if known."""

    code = "verify"

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class AgreementError(DetenteError):
    """An agreement file is malformed or inconsistent.

    Carries where (file, line, column: 1-based, as editors count) and which field, so the author
    can jump straight to the problem; `suggestion` is a did-you-mean where one fits.
    """

    code = "agreement"

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None,
        column: int | None = None, field: str | None = None, expected: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.file, self.line, self.column = file, line, column
        self.field, self.expected, self.suggestion = field, expected, suggestion
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        text = self.detail
        if self.field:
            text = f"{self.field}: {text}"
        if self.expected:
            text += f" (expected {self.expected})"
        if self.suggestion:
            text += f" — {self.suggestion}"
        return f"{where}: {text}" if where else text

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "field": self.field,
                "message": self.detail, "expected": self.expected, "suggestion": self.suggestion}
