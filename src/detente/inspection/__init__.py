"""The inspection procedure as pure domain: who may take which step, when, and the joint draw.

- procedure.py — `Procedure` folds logged inspection steps into every inspection's state (`Case`)
  and judges a candidate step (quota, notice, order, openings, countersignatures); no I/O, no clock;
- draw.py — the joint random draw: commit, reveal, seed and a sampler anyone can recompute
  (`detente.inspection.draw.draw`; the module keeps the name, so it is not re-exported here).

The log enforces the procedure through `desk.ProcedureRule`; the evaluator reads its cases.
"""

from detente.inspection.draw import Pool, check_reveal, commitment, seed
from detente.inspection.procedure import (
    STEP_KINDS,
    Case,
    DeclaredCommitment,
    Procedure,
    StepRefused,
    period_start,
)

__all__ = [
    "STEP_KINDS",
    "Case",
    "DeclaredCommitment",
    "Pool",
    "Procedure",
    "StepRefused",
    "check_reveal",
    "commitment",
    "period_start",
    "seed",
]
