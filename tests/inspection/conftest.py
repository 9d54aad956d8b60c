"""A workspace where the Aegis Ashore mechanism is adopted, both parties have logged committed
declarations as of 1 March 2022, and a clock the tests move by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from detente.desk import Desk, open_log
from detente.model.parties import Role
from detente.scenarios import agreement_files, declaration_bodies
from detente.workspace import Workspace

ORIGIN = "detente.test/inspections"
T0 = dt.datetime(2022, 4, 1, 9, 0, tzinfo=dt.UTC)


def aegis() -> Path:
    return next(f for f in agreement_files("2022") if f.name.startswith("aegis"))


@dataclass
class Round:
    ws: Workspace
    now: list[dt.datetime]
    us: Desk
    ru: Desk
    decl_index: dict[str, int]

    def at(self, t: dt.datetime) -> None:
        self.now[0] = t

    def later(self, **kw: float) -> dt.datetime:
        self.now[0] = self.now[0] + dt.timedelta(**kw)
        return self.now[0]

    def size(self) -> int:
        return self.ws.log(writable=False).size()


def make_round(tmp: Path, db_url: str | None = None) -> Round:
    ws = Workspace.create(tmp / "ws", ORIGIN, db_url=db_url)
    roles = frozenset({Role.DECLARANT, Role.INSPECTOR})
    ws.add_party("US", "United States", roles=roles, witness_name="witness.us.test")
    ws.add_party("RU", "Russia", roles=roles, witness_name="witness.ru.test")
    ws.adopt(aegis())
    now = [dt.datetime(2022, 3, 29, 9, 0, tzinfo=dt.UTC)]
    clock: Callable[[], dt.datetime] = lambda: now[0]  # noqa: E731
    log = open_log(ws, clock=clock)
    us, ru = Desk(ws, "US", clock=clock, log=log), Desk(ws, "RU", clock=clock, log=log)
    idx = {}
    for party, body in declaration_bodies("2022"):
        desk = us if party == "US" else ru
        rcpt, _ = desk.declare(dt.date.fromisoformat(body["as_of"]), body["holdings"],
                               sites=body["sites"], aggregates=body["aggregates"])
        idx[party] = rcpt.index
    now[0] = T0
    return Round(ws, now, us, ru, idx)


@pytest.fixture
def rnd(tmp_path: Path) -> Round:
    return make_round(tmp_path)
