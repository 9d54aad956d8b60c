"""The log's content rules (RecordRule): judged inside the write transaction, against what any
process has logged, refusals leave the log unchanged, and a failed batch resets the projection."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from detente.envelope.record import make_record
from detente.errors import RecordRefused
from detente.log.admission import Admitted
from detente.log.transparency import RecordRule
from detente.model.parties import Role
from detente.workspace import Workspace

NOW = datetime(2022, 3, 1, 12, 0, 0, tzinfo=UTC)
ORIGIN = "detente.test/rules"


class AtMostTwoStatements(RecordRule):
    """A toy content rule: the log holds at most two statements."""

    def __init__(self) -> None:
        super().__init__()
        self.statements: list[int] = []
        self.observed: list[int] = []

    def observe(self, index: int, leaf: bytes, author: str, kind: str) -> None:
        self.observed.append(index)
        if kind == "statement":
            self.statements.append(index)

    def check(self, item: Admitted, index: int) -> RecordRefused | None:
        if item.kind == "statement" and len(self.statements) >= 2:
            return RecordRefused(f"already two statements ({self.statements})", code="quota")
        return None

    def reset(self) -> None:
        super().reset()
        self.statements.clear()
        self.observed.clear()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace.create(tmp_path / "ws", ORIGIN)
    for p in ("US", "RU"):
        w.add_party(p, p, roles=frozenset({Role.DECLARANT, Role.INSPECTOR}),
                    witness_name=f"witness.{p.lower()}.test")
    return w


def _rec(ws: Workspace, party: str, seq: int, kind: str = "statement") -> bytes:
    env = make_record(kind, party, seq, {"n": seq}, ws.party_key(party), log=ORIGIN, signed_at=NOW)
    return env.canonical()


def test_rule_refuses_within_a_batch_and_leaves_the_log_unchanged(ws: Workspace) -> None:
    rule = AtMostTwoStatements()
    log = ws.log(clock=lambda: NOW, rules=[rule])
    out = log.append_batch(
        [_rec(ws, "US", 1), _rec(ws, "US", 2), _rec(ws, "US", 3), _rec(ws, "US", 4, "notification")])
    assert [type(r).__name__ for r in out] == ["Receipt", "Receipt", "RecordRefused", "Receipt"]
    refused = out[2]
    assert isinstance(refused, RecordRefused)
    assert refused.code == "quota"
    assert log.size() == 3
    assert rule.seen == 3
    assert rule.statements == [0, 1]
    # seq 4 was used by the notification, so a third statement is refused by the rule, not as a replay
    with pytest.raises(RecordRefused, match="already two statements"):
        log.append(_rec(ws, "US", 5))
    assert log.size() == 3


def test_rule_catches_up_with_records_appended_by_another_writer(ws: Workspace) -> None:
    other = ws.log(clock=lambda: NOW)  # a second process, without the rule
    other.append_batch([_rec(ws, "RU", 1), _rec(ws, "RU", 2)])
    rule = AtMostTwoStatements()
    log = ws.log(clock=lambda: NOW, rules=[rule])
    with pytest.raises(RecordRefused, match="already two statements"):
        log.append(_rec(ws, "US", 1))
    assert rule.observed == [0, 1]
    log.append(_rec(ws, "US", 2, "notification"))
    other.append(_rec(ws, "RU", 3, "notification"))
    log.append(_rec(ws, "US", 3, "notification"))
    assert rule.observed == [0, 1, 2, 3, 4]


def test_failed_batch_resets_the_projection(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = AtMostTwoStatements()
    log = ws.log(clock=lambda: NOW, rules=[rule])
    log.append(_rec(ws, "US", 1))

    def boom(*a: object, **k: object) -> None:
        raise OSError("disk full")

    store = log.store
    monkeypatch.setattr(type(store), "writer", lambda self: _Failing(boom))
    with pytest.raises(OSError, match="disk full"):
        log.append(_rec(ws, "US", 2))
    assert rule.seen == 0
    assert rule.statements == []
    monkeypatch.undo()
    log.append(_rec(ws, "US", 2))  # rebuilt from the log: one statement, room for one more
    assert rule.statements == [0, 1]
    with pytest.raises(RecordRefused):
        log.append(_rec(ws, "US", 3))


class _Failing:
    def __init__(self, fn: object) -> None:
        self.fn = fn

    def __enter__(self) -> object:
        raise OSError("disk full")

    def __exit__(self, *a: object) -> None:
        return None
