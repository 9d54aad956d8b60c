"""From the log to findings: the projection of the log and the evaluator.

- projection.py — `Projection`: the log read once into declarations, notifications, the inspection
  procedure's state and void steps; `State`: the projection at a date;
- evaluate.py — the engine, and `FAMILIES`, the evaluator of each obligation kind (families/);
- columns.py, context.py, conditions.py, details.py — the holdings-table work, what every family
  reads, reciprocity and date windows, the typed details of each kind of finding;
- findings.py — `Finding` and its `Evidence`; evidence.py — inclusion proofs for the evidence;
- check.py — `check`: one call from a log to proven findings.
"""

from detente.compliance.check import CheckResult, check, read_disclosed
from detente.compliance.evaluate import FAMILIES, evaluate
from detente.compliance.findings import Evidence, Finding
from detente.compliance.projection import Projection, State, project_log

__all__ = [
    "FAMILIES",
    "CheckResult",
    "Evidence",
    "Finding",
    "Projection",
    "State",
    "check",
    "evaluate",
    "project_log",
    "read_disclosed",
]
