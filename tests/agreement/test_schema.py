"""The exported JSON Schema (`detente agreement schema`) is valid Draft 2020-12, accepts every shipped
agreement and refuses the shape errors of the broken corpus, at the field the loader names."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from detente.agreement.schema import json_schema
from detente.agreement.yamlsource import parse_yaml
from detente.cli import app

ROOT = Path(__file__).parents[2]
AGREEMENTS = sorted((ROOT / "src/detente/scenarios/2022/agreements").glob("*.yaml"))
BROKEN = Path(__file__).parent / "broken"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    res = CliRunner().invoke(app, ["agreement", "schema"])
    assert res.exit_code == 0
    out: dict[str, Any] = json.loads(res.stdout)
    return out


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_schema_is_draft_2020_12(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema == json_schema()
    assert set(schema["required"]) >= {"agreement", "title", "legal_status", "parties"}
    assert schema["additionalProperties"] is False
    refs = [x["$ref"].rsplit("/", 1)[1] for x in schema["properties"]["obligations"]["items"]["oneOf"]]
    kinds = {schema["$defs"][r]["properties"]["kind"]["const"] for r in refs}
    assert kinds == {"limit", "ban", "zone", "capability", "notify", "inspection", "exchange"}


def test_schema_out_file(tmp_path: Path, schema: dict[str, Any]) -> None:
    out = tmp_path / "agreement.schema.json"
    res = CliRunner().invoke(app, ["agreement", "schema", "--out", str(out)])
    assert res.exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == schema


def _dates_as_text(v: Any) -> Any:
    """yaml.safe_load reads YAML 1.1, where 2010-04-08 is a date object; JSON (and a YAML 1.2 editor)
    sees the text. Turn dates back into the text written, so the schema sees what the file says."""
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _dates_as_text(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dates_as_text(x) for x in v]
    return v


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.stem)
def test_every_shipped_agreement_validates(validator: Draft202012Validator, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    raw = _dates_as_text(yaml.safe_load(text))
    assert [e.message for e in validator.iter_errors(raw)] == []
    # and as the loader reads it (YAML 1.2 core: dates stay text)
    assert [e.message for e in validator.iter_errors(parse_yaml(text, str(path)).data)] == []


def test_there_are_shipped_agreements() -> None:
    assert len(AGREEMENTS) >= 4


#: broken files whose fault is one of shape, so the schema alone must refuse them, at this path
SHAPE_ERRORS = {
    "unknown-field.yaml": ["obligations", 0],
    "misspelt-required-field.yaml": ["obligations", 0],
    "wrong-type.yaml": ["obligations", 0],
    "negative-limit.yaml": ["obligations", 0],
    "unknown-kind.yaml": ["obligations", 0],
    "missing-clause.yaml": ["obligations", 0],
    "legal-status-typo.yaml": ["legal_status"],
    "missing-parties-field.yaml": [],
}


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_broken_shapes_fail_the_schema(validator: Draft202012Validator, name: str) -> None:
    data = parse_yaml((BROKEN / name).read_text(encoding="utf-8"), name).data
    errors = list(validator.iter_errors(data))
    assert errors, name
    paths = [list(e.absolute_path)[: len(SHAPE_ERRORS[name])] for e in errors]
    assert SHAPE_ERRORS[name] in paths


def test_meaning_errors_pass_the_schema_and_need_the_loader(validator: Draft202012Validator) -> None:
    """The schema checks shape only: an undefined category is well-formed text. The loader is the
    gate (`detente agreement validate`), and this is why both exist."""
    for name in ("undefined-category.yaml", "reciprocal-typo.yaml", "dates-out-of-order.yaml"):
        data = parse_yaml((BROKEN / name).read_text(encoding="utf-8"), name).data
        assert list(validator.iter_errors(data)) == [], name


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def mutate(d: Any) -> None:
        for p in path[:-1]:
            d = d[p]
        d[path[-1]] = value
    return mutate


def _drop(path: tuple[Any, ...]) -> Any:
    def mutate(d: Any) -> None:
        for p in path[:-1]:
            d = d[p]
        del d[path[-1]]
    return mutate


DIVERGES = "the exported schema accepts what the loader's shape check refuses; see the reason"
#: mutations of new-start.yaml (obligations: 0 limit, 3 exchange, 6 inspection) -> (mutate, valid?)
MUTATIONS: dict[str, Any] = {
    "no parties": (_drop(("parties",)), False),
    "legal status typo": (_set(("legal_status",), "treaty"), False),
    "obligation kind typo": (_set(("obligations", 0, "kind"), "limt"), False),
    "no clause": (_drop(("obligations", 0, "clause")), False),
    "unknown field": (_set(("obligations", 0, "colour"), "red"), False),
    "max is a bool": (_set(("obligations", 0, "max"), True), False),
    "max below zero": (_set(("obligations", 0, "max"), -1), False),
    "party id in lower case": (_set(("parties", 0, "id"), "us"), False),
    "empty title": (_set(("title",), ""), False),
    "due_days as text": (_set(("obligations", 3, "due_days"), "30"), False),
    "as_of not MM-DD": (_set(("obligations", 3, "as_of"), ["March"]), False),
    "quota per decade": (_set(("obligations", 6, "quota", "per"), "decade"), False),
    "include a number": (_set(("include",), [5]), False),
    "extra limit fields on a limit": (_set(("obligations", 0, "sum"), "warheads"), True),
    "no obligations": (_drop(("obligations",)), True),
    "empty parties list": (_set(("parties",), []), False),
    "empty as_of list": (_set(("obligations", 3, "as_of"), []), False),
    "interpretation by a lower-case party": (
        _set(("obligations", 2, "interpretations", "uk"), {"reading": "x"}), False),
}


@pytest.mark.parametrize(("mutate", "valid"), list(MUTATIONS.values()), ids=list(MUTATIONS))
def test_schema_and_loader_agree_on_shape(validator: Draft202012Validator, mutate: Any, valid: bool) -> None:
    from pydantic import ValidationError

    from detente.agreement.schema import AgreementDoc

    data = parse_yaml((ROOT / "src/detente/scenarios/2022/agreements/new-start.yaml").read_text(
        encoding="utf-8"), "new-start.yaml").data
    assert data["obligations"][3]["kind"] == "exchange"
    assert data["obligations"][6]["kind"] == "inspection"
    assert validator.is_valid(data)
    mutate(data)
    try:
        AgreementDoc.model_validate(data)
        loader_ok = True
    except ValidationError:
        loader_ok = False
    assert loader_ok is valid
    assert validator.is_valid(data) is valid
