"""The procedure on a real PostgreSQL server (pgserver): a whole round, and two writers racing
for the last quota slot, each judged inside its own write transaction under the server's lock."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from detente.desk import Desk, open_log, project
from detente.errors import RecordRefused
from inspection.conftest import Round, make_round
from pg import TestPostgres

AG = "aegis-ashore-transparency"


@pytest.fixture(scope="module")
def postgres() -> Iterator[TestPostgres]:
    pg = TestPostgres()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def rnd(tmp_path: Path, postgres: TestPostgres) -> Round:
    return make_round(tmp_path, postgres.url(postgres.new_schema()))


def test_a_round_on_postgres(rnd: Round) -> None:
    assert rnd.ws.url.startswith("postgresql")
    ob = "us-visits-to-russian-bases"
    rnd.us.request(AG, ob, "US-D", "joint-random", rnd.now[0] + dt.timedelta(hours=48))
    rnd.us.commit("US-D")
    rnd.ru.commit("US-D")
    rnd.ru.reveal("US-D")
    rnd.us.reveal("US-D")
    rnd.later(hours=48)
    rnd.ru.open_records("US-D")
    rnd.us.report("US-D", leader="US team", found=[])
    rnd.ru.countersign("US-D")
    case = project(rnd.ws).cases["US-D"]
    assert case.status == "countersigned"
    assert case.site in case.pool.sites


def test_racing_for_the_last_slot_on_postgres(rnd: Round) -> None:
    """Eight threads, each its own log (its own connection and rule projection), ask for the two
    slots of the year at once: exactly two get in, the rest are refused for the quota."""
    clock = lambda: rnd.now[0]  # noqa: E731
    ob = "russian-visits-to-aegis-ashore"
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def go(i: int) -> None:
        desk = Desk(rnd.ws, "RU", clock=clock, log=open_log(rnd.ws, clock=clock))
        barrier.wait()
        for _ in range(20):  # a sequence number taken by a concurrent writer: sign again
            try:
                desk.request(AG, ob, f"RU-{i}", "challenge", rnd.now[0] + dt.timedelta(hours=48),
                             site="deveselu")
                out = "ok"
            except RecordRefused as exc:
                if exc.code == "replay":
                    continue
                out = exc.code
            break
        with lock:
            results.append(out)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "ok"] + ["quota"] * 6
    assert len(project(rnd.ws).cases) == 2
