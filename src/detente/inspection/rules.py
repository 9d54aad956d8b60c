"""The inspection procedure as a log content rule: refused steps never reach the log.

`InspectionRules` wraps a `Procedure` for `TransparencyLog(rules=...)`: the log feeds it every
entry in order (including ones other processes appended) and asks it to judge each candidate
inside the write transaction, so two inspectors racing for the last slot of a quota cannot both
get in, and a second draw cannot follow the first.
"""

from __future__ import annotations

from collections.abc import Mapping

from detente.agreement import model as m
from detente.errors import RecordRefused
from detente.inspection.procedure import STEP_KINDS, Procedure, Step
from detente.log.admission import Admitted
from detente.log.transparency import RecordRule
from detente.model.parties import Registry

_WATCHED = frozenset({*STEP_KINDS, "declaration"})


class InspectionRules(RecordRule):
    def __init__(self, agreements: Mapping[str, m.Agreement], registry: Registry) -> None:
        super().__init__()
        self._agreements = dict(agreements)
        self._registry = registry
        self.procedure = Procedure(self._agreements, registry)

    def observe(self, index: int, leaf: bytes, author: str, kind: str) -> None:
        if kind in _WATCHED:
            self.procedure.observe(Step.from_leaf(index, leaf))

    def check(self, item: Admitted, index: int) -> RecordRefused | None:
        if item.kind not in STEP_KINDS:
            return None
        return self.procedure.judge(Step.from_leaf(index, item.leaf))

    def reset(self) -> None:
        super().reset()
        self.procedure = Procedure(self._agreements, self._registry)
