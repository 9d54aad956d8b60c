"""One call from a workspace's log to proven findings: what `detente check` and the demo run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from detente.agreement.model import Agreement
from detente.agreement.table import HoldingsTable
from detente.compliance.evaluate import build_table, evaluate, table_key
from detente.compliance.evidence import attach_proofs, checkpoint_json
from detente.compliance.findings import Finding
from detente.compliance.state import load_history
from detente.log.transparency import TransparencyLog


@dataclass(frozen=True)
class CheckResult:
    at: dt.date
    checkpoint: dict[str, Any]
    findings: tuple[Finding, ...]
    malformed: tuple[tuple[int, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "checkpoint": self.checkpoint,
            "findings": [f.to_json() for f in self.findings],
            "unreadable_records": [{"index": i, "reason": r} for i, r in self.malformed],
        }


def check(
    agreements: Sequence[Agreement],
    log: TransparencyLog,
    at: dt.date,
    *,
    known_at: dt.datetime | None = None,
    hypothetical: bool = False,
) -> CheckResult:
    """Evaluate against the log as of its latest signed checkpoint: the findings, the entries they
    cite and the proofs all refer to that one tree, so a later append cannot shift them."""
    scp = log.latest()
    history = load_history(log.store, scp.checkpoint.size, known_at)
    state = history.at(at)
    findings: list[Finding] = []
    tables: dict[tuple[Any, ...], HoldingsTable] = {}
    for ag in agreements:
        key = table_key(ag)
        if key not in tables:
            tables[key] = build_table(ag, state)
        findings.extend(evaluate(ag, state, hypothetical=hypothetical, table=tables[key]))
    proven = attach_proofs(findings, log, scp)
    return CheckResult(at, checkpoint_json(scp), tuple(proven), tuple(history.malformed))
