"""Findings: one obligation × one party × one reading, at one date, with its evidence.

A finding is what a government would put in a compliance report and what the other side would
contest, so it carries everything needed to check it without trusting us: the measured value and
the bound, the sites and items behind the number, the log entries it rests on (each with an
inclusion proof against a named, signed checkpoint), the clause, and a plain explanation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from detente.compliance.details import Details, Divergence

Status = Literal["compliant", "violation", "unverified", "not_applicable"]
STATUSES: tuple[Status, ...] = ("compliant", "violation", "unverified", "not_applicable")


@dataclass(frozen=True)
class Evidence:
    """A log entry a finding rests on. `proof` and `checkpoint` are filled by `attach_proofs`."""

    index: int
    kind: str
    author: str
    seq: int
    signed_at: str
    role: str  # what the entry shows, e.g. "declaration as of 2022-03-01"
    proof: tuple[str, ...] | None = None  # base64 sibling hashes, RFC 9162 inclusion proof
    leaf_hash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "author": self.author,
            "seq": self.seq,
            "signed_at": self.signed_at,
            "role": self.role,
            "leaf_hash": self.leaf_hash,
            "inclusion_proof": list(self.proof) if self.proof is not None else None,
        }


@dataclass(frozen=True)
class Finding:
    agreement: str
    obligation: str
    kind: str
    clause: str
    party: str
    interpretation: str | None  # None: the agreed text; else the party whose reading this is
    status: Status
    value: float | int | None
    bound: float | int | None
    unit: str
    explanation: str
    at: str
    sites: tuple[dict[str, Any], ...] = ()
    items: tuple[dict[str, Any], ...] = ()
    evidence: tuple[Evidence, ...] = ()
    checkpoint: dict[str, Any] | None = None
    legal: str | None = None
    hypothetical: bool = False
    details: Details | None = None

    def public(self) -> Finding:
        """What anyone may see of this finding: its status, the value and the bound, the clause,
        the legal consequence, and the evidence as log entries with their proofs. Not the sites,
        the items, the details or the explanation: they come from record bodies (committed
        declarations disclosed to the parties, inspection openings), which observers never see
        (docs/service.md, "Who sees what")."""
        measured = (f", {self.value:,} {self.unit} against a bound of {self.bound:,}"
                    if self.value is not None and self.bound is not None else "")
        text = (f"{self.party}, {self.reading}: {self.status.replace('_', ' ')}{measured}. The sites, "
                "items and explanation behind this finding are shown to the parties only.")
        return replace(self, explanation=text, sites=(), items=(), details=None,
                       evidence=tuple(replace(e, role=e.kind) for e in self.evidence))

    @property
    def divergence(self) -> tuple[Divergence, ...]:
        """Where this reading counts otherwise than another party's (counted rules only)."""
        return getattr(self.details, "divergence", ())

    @property
    def reading(self) -> str:
        return "agreed text" if self.interpretation is None else f"{self.interpretation} reading"

    def to_json(self) -> dict[str, Any]:
        return {
            "agreement": self.agreement,
            "obligation": self.obligation,
            "kind": self.kind,
            "clause": self.clause,
            "party": self.party,
            "interpretation": self.interpretation,
            "status": self.status,
            "value": self.value,
            "bound": self.bound,
            "unit": self.unit,
            "explanation": self.explanation,
            "at": self.at,
            "sites": list(self.sites),
            "items": list(self.items),
            "evidence": [e.to_json() for e in self.evidence],
            "checkpoint": self.checkpoint,
            "legal": self.legal,
            "hypothetical": self.hypothetical,
            "details": self.details.to_json() if self.details is not None else {},
        }
