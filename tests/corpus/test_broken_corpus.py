"""The corpus of broken agreements: each file is refused with file:line:column, the field, what was
expected, and a suggestion where one fits. Positions are 1-based, as editors count."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from detente.agreement.loader import load_agreement
from detente.cli import app
from detente.errors import AgreementError

BROKEN = Path(__file__).parent / "broken"

# file -> (line, column, field, words the message must contain, suggestion or None)
EXPECTED: dict[str, tuple[int, int, str, tuple[str, ...], str | None]] = {
    "unknown-field.yaml": (20, 5, "obligations[0].maximum", ("unknown field 'maximum'", "expected one of"),
                           "did you mean 'max'?"),
    "wrong-type.yaml": (19, 10, "obligations[0].max", ("got 'seven hundred'", "expected an integer"), None),
    "undefined-category.yaml": (18, 26, "obligations[0].select", ("unknown category 'ICMB'",),
                                "did you mean 'ICBM'?"),
    "invalid-polygon.yaml": (16, 14, "zones.bowtie.polygon",
                             ("invalid zone", "self-intersection at longitude 5, latitude 5"), None),
    "missing-party.yaml": (18, 19, "obligations[0].parties[1]",
                           ("'UK' is not a party to this agreement", "expected one of: US, RU"), None),
    "negative-limit.yaml": (19, 10, "obligations[0].max", ("-5 is out of range", "≥ 0"), None),
    "condition-names-no-obligation.yaml": (21, 21, "obligations[0].conditions[0].reciprocal",
                                           ("condition names no obligation: 'kap'",), "did you mean 'cap'?"),
}


def test_corpus_and_table_agree() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_agreement_is_refused_where_it_is_broken(name: str) -> None:
    line, column, field, words, suggestion = EXPECTED[name]
    path = BROKEN / name
    with pytest.raises(AgreementError) as caught:
        load_agreement(path)
    exc = caught.value
    assert (exc.file, exc.line, exc.column, exc.field) == (str(path), line, column, field)
    assert exc.message.startswith(f"{path}:{line}:{column}: {field}: ")
    for w in words:
        assert w in exc.message
    assert exc.suggestion == suggestion
    if suggestion:
        assert exc.message.endswith(f"— {suggestion}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_validate_reports_the_same_place(name: str) -> None:
    line, column, _, words, _ = EXPECTED[name]
    path = BROKEN / name
    res = CliRunner().invoke(app, ["agreement", "validate", str(path), "--json"])
    assert res.exit_code == 2
    import json

    (result,) = json.loads(res.output)
    assert result["ok"] is False
    assert (result["error"]["line"], result["error"]["column"]) == (line, column)
    assert words[0] in result["message"]


def test_fixing_the_file_makes_it_load(tmp_path: Path) -> None:
    """The corpus files are broken in exactly one place: fix that place and they load."""
    text = (BROKEN / "negative-limit.yaml").read_text().replace("max: -5", "max: 5")
    (tmp_path / "ok.yaml").write_text(text)
    assert load_agreement(tmp_path / "ok.yaml").obligations[0].id == "cap"
