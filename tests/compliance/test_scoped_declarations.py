"""Each agreement is judged on the declarations made under it.

Tried on the CFE Treaty's flank rule: a later declaration made for another purpose (one item of a
category the treaty does not define) replaced the party's whole state, and a flank violation
turned `compliant, value 0`. A declaration scoped to other agreements, or an unscoped one of only
categories an agreement does not define, must leave that agreement's picture as it was.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compliance.helpers import AT, Log, agreement, find, item
from detente.agreement.model import Agreement
from detente.desk import Desk, InspectionError
from detente.model.parties import Role
from detente.workspace import Workspace

CFE = """
agreement: cfe-flank
title: CFE flank (illustrative)
legal_status: ratified-treaty
signed: 1990-11-19
entry_into_force: 1992-11-09
parties: [{id: RU, name: Russia}, {id: US, name: United States}]
definitions:
  categories:
    battle tank: {}
    ACV: {}
obligations:
  - id: flank-tanks
    kind: limit
    clause: "Art. V.1(a)"
    parties: [RU]
    select: 'category == "battle tank"'
    max: 1300
"""
OTHER = """
agreement: other
title: Another instrument
legal_status: political-commitment
signed: 2020-01-01
entry_into_force: 2020-01-01
parties: [{id: RU, name: Russia}, {id: US, name: United States}]
definitions:
  categories:
    heavy bomber: {}
obligations:
  - id: bombers
    kind: limit
    clause: "1"
    select: 'category == "heavy bomber"'
    max: 100
"""


@pytest.fixture
def cfe(tmp_path: Path) -> Agreement:
    return agreement(tmp_path, CFE, "cfe.yaml")


def test_a_declaration_for_another_purpose_does_not_replace_the_state(cfe: Agreement) -> None:
    log = Log()
    log.declare("RU", [item("battle tank", 1500)], as_of=AT.replace(month=1))
    log.declare("RU", [item("heavy bomber", 60)], as_of=AT)  # unscoped, nothing the CFE counts
    f = find(log.run(cfe), "flank-tanks", "RU")
    assert (f.status, f.value) == ("violation", 1500)


def test_a_declaration_scoped_elsewhere_is_not_this_agreements(cfe: Agreement) -> None:
    log = Log()
    log.declare("RU", [item("battle tank", 1500)], as_of=AT.replace(month=1), under=["cfe-flank"])
    log.declare("RU", [item("battle tank", 0)], as_of=AT, under=["other"])
    f = find(log.run(cfe), "flank-tanks", "RU")
    assert (f.status, f.value) == ("violation", 1500)


def test_a_later_declaration_under_the_agreement_replaces_it(cfe: Agreement) -> None:
    log = Log()
    log.declare("RU", [item("battle tank", 1500)], as_of=AT.replace(month=1), under=["cfe-flank"])
    log.declare("RU", [item("battle tank", 1200)], as_of=AT, under=["cfe-flank"])
    f = find(log.run(cfe), "flank-tanks", "RU")
    assert (f.status, f.value) == ("compliant", 1200)


def test_the_desk_refuses_a_category_the_agreements_do_not_define(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws", "detente.test/cfe")
    ws.add_party("RU", "Russia", roles=frozenset({Role.DECLARANT}), witness_name=None)
    ws.add_party("US", "United States", roles=frozenset({Role.DECLARANT}), witness_name=None)
    for name, text in (("cfe.yaml", CFE), ("other.yaml", OTHER)):
        (tmp_path / name).write_text(text)
        ws.adopt(tmp_path / name)
    desk = Desk(ws, "RU", clock=lambda: dt.datetime(2022, 3, 1, 12, tzinfo=dt.UTC))
    size = ws.log(writable=False).size()
    with pytest.raises(InspectionError, match="'heavy bomber', which cfe-flank does not define"):
        desk.declare(AT, [item("heavy bomber", 60)], under=["cfe-flank"])
    with pytest.raises(InspectionError, match="not adopted"):
        desk.declare(AT, [item("battle tank", 60)], under=["cfe"])
    assert ws.log(writable=False).size() == size  # nothing signed, nothing logged
    desk.declare(AT, [item("heavy bomber", 60)], under=["other"])
    desk.declare(AT, [item("battle tank", 60), item("heavy bomber", 1)], under=["cfe-flank", "other"])
    assert ws.log(writable=False).size() == size + 2
