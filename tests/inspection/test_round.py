"""A whole round of the 2022 mechanism through the desks, as two terminals would run it."""

from __future__ import annotations

import datetime as dt

from detente.desk import countersigned_report, project
from detente.envelope.dsse import parse_envelope
from detente.envelope.verify import KeyRing, verify_record
from detente.inspection import draw
from inspection.conftest import Round

AG = "aegis-ashore-transparency"


def test_russia_visits_deveselu_by_challenge(rnd: Round) -> None:
    rnd.ru.request(AG, "russian-visits-to-aegis-ashore", "RU-2022-01", "challenge",
                   rnd.now[0] + dt.timedelta(hours=48), site="deveselu")
    rnd.later(hours=48)
    opened = rnd.us.open_records("RU-2022-01")
    rnd.later(hours=6)
    rep = rnd.ru.report("RU-2022-01", leader="RU team leader", found=[
        {"category": "MK 41 launcher", "count": 3}, {"category": "SM-3", "count": 24},
        {"category": "Tomahawk", "count": 0}],
        configurations=[{"category": "MK 41 launcher", "can_launch": ["SM-3"]}])
    rnd.later(minutes=30)
    rnd.us.countersign("RU-2022-01")
    case = project(rnd.ws).cases["RU-2022-01"]
    assert case.status == "countersigned"
    assert case.site == "deveselu"
    assert case.openings[0][0].index == opened.index
    assert {r["category"] for r in case.opened} == {"MK 41 launcher", "SM-3"}
    assert case.report is not None
    assert case.report.index == rep.index
    env = parse_envelope(countersigned_report(case))
    rec = verify_record(env, KeyRing(rnd.ws.registry()))
    assert rec.signers == ("RU", "US")


def test_united_states_visits_by_choice_and_by_draw(rnd: Round) -> None:
    ob = "us-visits-to-russian-bases"
    rnd.us.request(AG, ob, "US-2022-01", "unilateral", rnd.now[0] + dt.timedelta(hours=48),
                   site="kamyshlov")
    rnd.later(hours=1)
    rnd.us.request(AG, ob, "US-2022-02", "joint-random", rnd.now[0] + dt.timedelta(hours=72))
    rnd.us.commit("US-2022-02")
    rnd.later(hours=2)
    rnd.ru.commit("US-2022-02")
    rnd.later(hours=1)
    rnd.ru.reveal("US-2022-02")
    rnd.us.reveal("US-2022-02")
    case = project(rnd.ws).cases["US-2022-02"]
    assert case.status == "selected"
    assert case.pool.sites == ("chernyakhovsk", "kamyshlov", "mozdok", "shuya")
    # anyone recomputes the draw from the two logged reveals
    r_us = bytes.fromhex(str(case.reveals["US"][1].body["value"]))
    r_ru = bytes.fromhex(str(case.reveals["RU"][1].body["value"]))
    assert case.site == draw.draw(draw.seed(r_us, r_ru), case.pool)[0]
    rnd.later(hours=72)
    rnd.ru.open_records("US-2022-02")
    rnd.later(hours=4)
    rnd.us.report("US-2022-02", leader="US team leader", found=[])
    assert project(rnd.ws).cases["US-2022-02"].status == "reported"
