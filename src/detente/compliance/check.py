"""One call from a workspace's log to proven findings: what `detente check` and the demo run."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detente.agreement.model import Agreement
from detente.agreement.table import HoldingsTable
from detente.commitment import CommittedDeclaration
from detente.compliance.evaluate import build_table, evaluate, table_key
from detente.compliance.evidence import attach_proofs, checkpoint_json
from detente.compliance.findings import Finding
from detente.compliance.projection import project_log
from detente.errors import ProofError
from detente.log.transparency import TransparencyLog


@dataclass(frozen=True)
class CheckResult:
    at: dt.date
    checkpoint: dict[str, Any]
    findings: tuple[Finding, ...]
    malformed: tuple[tuple[int, str], ...]
    #: Inspection steps in the log that the procedure does not accept (appended without its rule).
    void_steps: tuple[tuple[int, str], ...] = ()
    #: Every inspection of the evaluated agreements, as the procedure reads the same entries.
    inspections: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "checkpoint": self.checkpoint,
            "findings": [f.to_json() for f in self.findings],
            "unreadable_records": [{"index": i, "reason": r} for i, r in self.malformed],
            "void_inspection_steps": [{"index": i, "reason": r} for i, r in self.void_steps],
        }


def read_disclosed(directory: Path) -> dict[bytes, list[dict[str, Any]]]:
    """Full declarations received from treaty partners (DIR/disclosed/PARTY/*.json), by the root
    their records and salts rebuild; a file that does not parse is skipped with no effect, since
    only a root that a logged declaration commits to is ever used."""
    out: dict[bytes, list[dict[str, Any]]] = {}
    for path in sorted(directory.glob("*/*.json")) if directory.is_dir() else []:
        try:
            full = CommittedDeclaration.from_json(json.loads(path.read_bytes()))
        except (OSError, ValueError, ProofError):
            continue
        out[full.commitment.root] = full.records()
    return out


def check(
    agreements: Sequence[Agreement],
    log: TransparencyLog,
    at: dt.date,
    *,
    known_at: dt.datetime | None = None,
    hypothetical: bool = False,
    disclosed: Mapping[bytes, list[dict[str, Any]]] | None = None,
    enforced: Sequence[Agreement] = (),
) -> CheckResult:
    """Evaluate against the log as of its latest signed checkpoint: the findings, the entries they
    cite and the proofs all refer to that one tree, so a later append cannot shift them.

    `hypothetical` evaluates proposed and signed texts as if in force; it changes nothing for an
    agreement in force or expired, so one call serves a mix (read the log once, one checkpoint).

    `disclosed`: full declarations received (`read_disclosed`); committed declarations without
    one count as aggregates only.

    `enforced`: the agreements whose procedure the log enforces (the workspace's adopted ones).
    The inspection steps are judged under those and the evaluated ones together, so evaluating
    one agreement never reports another's lawful steps as void.
    """
    scp = log.latest()
    procedure = {a.id: a for a in enforced} | {a.id: a for a in agreements}
    projection = project_log(log.store, scp.checkpoint.size, agreements=procedure,
                             registry=log.registry, known_at=known_at, disclosed=disclosed)
    state = projection.at(at)
    findings: list[Finding] = []
    tables: dict[tuple[Any, ...], HoldingsTable] = {}
    for ag in agreements:
        mine = state.for_agreement(ag)  # each agreement judged on the declarations made under it
        key = (table_key(ag), tuple(sorted(d.record.index for d in mine.declarations.values())))
        if key not in tables:
            tables[key] = build_table(ag, mine)
        findings.extend(evaluate(ag, mine, hypothetical=hypothetical, table=tables[key]))
    proven = attach_proofs(findings, log, scp)
    return CheckResult(at, checkpoint_json(scp), tuple(proven), tuple(projection.malformed),
                       tuple(sorted(projection.void.items())),
                       tuple(c.to_json() for c in projection.inspections))
