"""Where a party's desk meets the log: the adopted agreements' procedure, attached visibly.

A writable log enforces the inspection procedure of every agreement the workspace adopted: a
`ProcedureRule` keeps the one projection of the log (`compliance.projection.Projection`) current
inside the write transaction and refuses a step the procedure refuses. Every writer of a
workspace's log opens it here; `Workspace.log` refuses to open a writable log of a workspace
with adopted agreements without being handed its rules, so none can forget them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from detente.agreement.model import Agreement
from detente.compliance.projection import PROCEDURE_KINDS, Projection, project_log
from detente.envelope.record import read_record
from detente.errors import RecordRefused
from detente.inspection.procedure import STEP_KINDS
from detente.log.admission import Admitted
from detente.log.transparency import RecordRule, TransparencyLog, utcnow
from detente.model.parties import Registry
from detente.workspace import Workspace

__all__ = ["ProcedureRule", "open_log", "project"]


class ProcedureRule(RecordRule):
    """The inspection procedure as a log content rule: refused steps never reach the log.

    The log feeds it every entry in order (including ones other processes appended) and asks it
    to judge each candidate inside the write transaction, so two inspectors racing for the last
    slot of a quota cannot both get in, and a second draw cannot follow the first.
    """

    def __init__(self, agreements: Mapping[str, Agreement], registry: Registry) -> None:
        super().__init__()
        self._agreements = dict(agreements)
        self._registry = registry
        self.projection = Projection(self._agreements, registry)

    def observe(self, index: int, leaf: bytes, author: str, kind: str) -> None:
        if kind in PROCEDURE_KINDS:
            self.projection.add(read_record(index, leaf))

    def check(self, item: Admitted, index: int) -> RecordRefused | None:
        if item.kind not in STEP_KINDS:
            return None
        return self.projection.procedure.judge(read_record(index, item.leaf))

    def reset(self) -> None:
        super().reset()
        self.projection = Projection(self._agreements, self._registry)


def open_log(ws: Workspace, *, clock: Callable[[], dt.datetime] = utcnow, **kwargs: Any) -> TransparencyLog:
    """The workspace's log for writing, enforcing the procedure of every adopted agreement."""
    adopted = ws.agreements()
    rules = [ProcedureRule({a.id: a for a in adopted}, ws.registry())] if adopted else []
    return ws.log(writable=True, rules=rules, clock=clock, **kwargs)


def project(ws: Workspace, log: TransparencyLog | None = None) -> Projection:
    """The whole log projected under the workspace's adopted agreements (what each desk shows)."""
    store = log.store if log is not None else ws.store()
    return project_log(store, agreements={a.id: a for a in ws.agreements()}, registry=ws.registry())
