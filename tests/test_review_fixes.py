"""Regression tests for bugs found reviewing the agreement language (each would have caught its bug)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from detente.agreement.loader import load_agreement
from detente.agreement.model import Counted
from detente.cli import app
from detente.errors import AgreementError

BASE = """
agreement: t
title: T
legal_status: ratified-treaty
parties: [{id: US, name: U}, {id: RU, name: R}, {id: UK, name: K}]
definitions:
  attributes: {range_km: {type: number}}
  categories: {GLCM: {attributes: [range_km]}}
obligations:
  - id: ban
    kind: ban
    clause: "Art. 1"
    select: {select}
{extra}
"""


def _write(tmp_path: Path, select: str = "'category == \"GLCM\"'", extra: str = "") -> Path:
    p = tmp_path / "a.yaml"
    p.write_text(BASE.replace("{select}", select).replace("{extra}", extra))
    return p


def test_partial_interpretations_keep_the_agreed_text(tmp_path: Path) -> None:
    extra = """    interpretations:
      RU: {reading: "RU reads it narrowly", select: 'category == "GLCM" and range_km > 500'}"""
    ag = load_agreement(_write(tmp_path, extra=extra))
    ob = ag.obligations[0]
    assert isinstance(ob, Counted)
    assert [r.by for r in ob.readings] == [None, "RU"]  # US and UK have given no reading


def test_every_party_reading_replaces_the_agreed_text(tmp_path: Path) -> None:
    extra = """    interpretations:
      RU: {reading: "narrow"}
      US: {reading: "broad"}
      UK: {reading: "broad"}"""
    ob = load_agreement(_write(tmp_path, extra=extra)).obligations[0]
    assert isinstance(ob, Counted)
    assert sorted(r.by or "" for r in ob.readings) == ["RU", "UK", "US"]


@pytest.mark.parametrize("depth", [1000, 50_000])
def test_deeply_nested_selector_is_a_located_error(tmp_path: Path, depth: int) -> None:
    sel = "'" + "not " * depth + "category == \"GLCM\"'"
    with pytest.raises(AgreementError) as exc:
        load_agreement(_write(tmp_path, select=sel))
    assert exc.value.line == 13
    assert "simplify" in exc.value.message


def test_cli_shows_bracketed_text_in_messages(tmp_path: Path) -> None:
    p = _write(tmp_path, extra="    x[bold]: 1")
    res = CliRunner().invoke(app, ["agreement", "validate", str(p)])
    assert res.exit_code == 2
    assert "unknown field 'x[bold]'" in res.output  # not eaten as console markup


@pytest.mark.parametrize("bad", ["US\n", "RU\n"])
def test_party_id_with_trailing_newline_is_refused(bad: str) -> None:
    from detente.model.parties import check_party_id

    with pytest.raises(Exception, match="party"):
        check_party_id(bad)


def test_record_kind_with_trailing_newline_is_refused() -> None:
    from detente.model.records import Header

    payload = {"kind": "declaration\n", "author": "US", "seq": 1, "signed_at": "2022-03-01T00:00:00Z",
               "log": "x", "body": {}}
    with pytest.raises(ValueError, match="kind"):
        Header.from_payload(payload)
