"""The corpus of broken agreements under broken/: every file is refused where it is broken.

Each file is small and self-contained (its own vocabulary inline) and broken in exactly one place;
the table pins that place (1-based line and column, as editors count), the field, the words the
message must contain and the did-you-mean. A test that the table and the directory agree keeps a
new file from going unchecked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detente.agreement.loader import load_agreement
from detente.cli import app
from detente.errors import AgreementError

BROKEN = Path(__file__).parent / "broken"

#: file -> (line, column, field or None, words the message must contain, suggestion or None)
Expected = tuple[int, int, str | None, tuple[str, ...], str | None]
EXPECTED: dict[str, Expected] = {
    # the seven kinds the issue names
    "unknown-field.yaml": (22, 5, "obligations[0].partys",
                           ("unknown field 'partys'", "expected one of: ", "parties"),
                           "did you mean 'parties'?"),
    "wrong-type.yaml": (21, 10, "obligations[0].max",
                        ("got 'seven hundred'", "expected an integer"), None),
    "undefined-category.yaml": (20, 39, "obligations[0].select",
                                ("unknown category 'ICMB'", 'in selector "deployed and category == "ICMB""'),
                                "did you mean 'ICBM'?"),
    "invalid-polygon.yaml": (19, 14, "zones.bowtie.polygon",
                             ("invalid zone", "self-intersection at longitude 5, latitude 5"), None),
    "party-not-in-agreement.yaml": (20, 15, "obligations[0].parties[0]",
                                    ("'USA' is not a party to this agreement", "expected one of: US, RU"),
                                    "did you mean 'US'?"),
    "missing-parties-field.yaml": (2, 1, "parties", ("missing required field 'parties'",), None),
    "negative-limit.yaml": (21, 10, "obligations[0].max",
                            ("-1 is out of range", "expected a value ≥ 0"), None),
    "condition-names-no-obligation.yaml": (23, 9, "obligations[0].conditions[0]",
                                           ("a condition names an obligation (reciprocal:) or a date",
                                            "expected reciprocal: OBLIGATION-ID"), None),
    # and the rest
    "reciprocal-typo.yaml": (22, 31, "obligations[0].conditions[0].reciprocal",
                             ("condition names no obligation: 'cpa'",
                              "expected the id of an obligation in this agreement"), "did you mean 'cap'?"),
    "duplicate-key.yaml": (22, 5, "obligations[0].max", ("duplicate key 'max'", "first at line 21"), None),
    "yaml-syntax.yaml": (21, 11, None, ("not valid YAML", "expected ',' or ']'",
                                        "while parsing a flow sequence at line 20, column 14"), None),
    "tab-indent.yaml": (6, 1, None, ("not valid YAML", "'\\t'"), None),
    "alias.yaml": (19, 13, None, ("anchors and aliases", "write the value out"), None),
    "norway-no.yaml": (16, 57, "definitions.categories.SLCM.defaults.deployed",
                       ("'NO' does not fit attribute 'deployed'", "bool"), None),
    "unknown-kind.yaml": (18, 11, "obligations[0].kind",
                          ("unknown obligation kind 'limt'",
                           "expected one of: limit, ban, zone, capability, notify, inspection, exchange"),
                          "did you mean 'limit'?"),
    "selector-syntax.yaml": (20, 37, "obligations[0].select", ("not a valid expression",), None),
    "selector-call.yaml": (20, 37, "obligations[0].select",
                           ("only attributes, literals, comparisons, in, and, or, not are allowed",), None),
    "enum-typo.yaml": (20, 52, "obligations[0].select",
                       ("'convertd' is not a value of 'status'", "converted, operational, training"),
                       "did you mean 'converted'?"),
    "unknown-attribute.yaml": (20, 37, "obligations[0].select", ("unknown attribute 'range'",),
                               "did you mean 'range_km'?"),
    "number-vs-string.yaml": (20, 49, "obligations[0].select",
                              ("'range_km' is a number; compared with '500'",), None),
    "unknown-named-selector.yaml": (22, 13, "obligations[0].select", ("unknown named selector '$strategc'",),
                                    "did you mean 'strategic'?"),
    "include-missing.yaml": (16, 11, "include[0]",
                             ("included file 'common.yaml' not found next to include-missing.yaml",), None),
    "dates-out-of-order.yaml": (17, 19, "entry_into_force", ("enters into force before it is signed",), None),
    "capability-undefined-site.yaml": (28, 23, "obligations[0].sites[1]",
                                       ("undefined site 'devselu'", "expected a site defined under sites:"),
                                       "did you mean 'deveselu'?"),
    "misspelt-required-field.yaml": (21, 5, "obligations[0].maximum", ("unknown field 'maximum'",),
                                     "did you mean 'max'?"),
    "legal-status-typo.yaml": (4, 15, "legal_status",
                               ("'ratified' is not allowed", "expected one of: ratified-treaty, "
                                "executive-agreement, political-commitment"),
                               "did you mean 'ratified-treaty'?"),
    "undefined-zone.yaml": (23, 11, "obligations[0].zone", ("undefined zone 'urkaine'",),
                            "did you mean 'ukraine'?"),
    "unclosed-polygon.yaml": (18, 14, "zones.box.polygon", ("invalid zone", "ring is not closed"), None),
    "duplicate-obligation-id.yaml": (22, 9, "obligations[1].id",
                                     ("obligation id 'cap' is used twice",), None),
    "infinite-limit.yaml": (21, 10, "obligations[0].max", ("infinities and NaN",), None),
    "missing-clause.yaml": (17, 5, "obligations[0].clause", ("missing required field 'clause'",), None),
    "site-off-earth.yaml": (22, 15, "sites[0].location",
                            ("is not a place on Earth", "[longitude, latitude]"), None),
    "empty.yaml": (1, 1, None, ("the file is empty",), None),
    # security review: hostile files
    "too-deep.yaml": (21, 71, None, ("nested more than 64 levels deep", "flatten the structure"), None),
    "include-outside.yaml": (16, 11, "include[0]",
                             ("included file '/etc/passwd' is outside the folder of include-outside.yaml",
                              "expected a file in that folder or below it, or a shipped vocabulary"),
                             "copy it next to the agreement; if you trust it where it is, pass "
                             "--allow-include-outside (allow_outside=True)"),
    # the seven kinds once more, each written another way (formerly tests/corpus)
    "seven-unknown-field.yaml": (20, 5, "obligations[0].maximum",
                                 ("unknown field 'maximum'", "expected one of"), "did you mean 'max'?"),
    "seven-wrong-type.yaml": (19, 10, "obligations[0].max",
                              ("got 'seven hundred'", "expected an integer"), None),
    "seven-undefined-category.yaml": (18, 26, "obligations[0].select", ("unknown category 'ICMB'",),
                                      "did you mean 'ICBM'?"),
    "seven-invalid-polygon.yaml": (16, 14, "zones.bowtie.polygon",
                                   ("invalid zone", "self-intersection at longitude 5, latitude 5"), None),
    "seven-missing-party.yaml": (18, 19, "obligations[0].parties[1]",
                                 ("'UK' is not a party to this agreement", "expected one of: US, RU"), None),
    "seven-negative-limit.yaml": (19, 10, "obligations[0].max", ("-5 is out of range", "≥ 0"), None),
    "seven-condition-names-no-obligation.yaml": (
        21, 21, "obligations[0].conditions[0].reciprocal", ("condition names no obligation: 'kap'",),
        "did you mean 'cap'?"),
}


def test_corpus_and_table_agree() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_refused_where_it_is_broken(name: str) -> None:
    line, column, field, words, suggestion = EXPECTED[name]
    path = BROKEN / name
    with pytest.raises(AgreementError) as caught:
        load_agreement(path)
    exc = caught.value
    assert (exc.file, exc.line, exc.column, exc.field) == (str(path), line, column, field)
    head = f"{path}:{line}:{column}: " + (f"{field}: " if field else "")
    assert exc.message.startswith(head), exc.message
    for w in words:
        assert w in exc.message, (w, exc.message)
    assert exc.suggestion == suggestion
    if suggestion:
        assert exc.message.endswith(f" — {suggestion}")
    assert exc.code == "agreement"
    assert exc.to_json()["line"] == line


@pytest.mark.parametrize("name", ["enum-typo.yaml", "selector-syntax.yaml", "undefined-category.yaml",
                                  "number-vs-string.yaml", "unknown-attribute.yaml", "selector-call.yaml"])
def test_selector_columns_point_at_the_offending_token(name: str) -> None:
    """The column is inside the selector, on the token to fix, not at the start of the value."""
    line, column, *_ = EXPECTED[name]
    text = (BROKEN / name).read_text(encoding="utf-8").splitlines()[line - 1]
    token = {
        "enum-typo.yaml": '"convertd"',
        "selector-syntax.yaml": "and deployed",  # the second `and`
        "undefined-category.yaml": '"ICMB"',
        "number-vs-string.yaml": '"500"',
        "unknown-attribute.yaml": "range >",
        "selector-call.yaml": "__import__",
    }[name]
    assert text[column - 1:].startswith(token), text[column - 1:]


def test_every_file_is_broken_in_one_place_only(tmp_path: Path) -> None:
    """Mending the one broken place makes the file load: the corpus tests what it says it tests."""
    fixes = {
        "negative-limit.yaml": ("max: -1", "max: 1"),
        "wrong-type.yaml": ("max: seven hundred", "max: 700"),
        "undefined-category.yaml": ('"ICMB"', '"ICBM"'),
        "enum-typo.yaml": ('"convertd"', '"converted"'),
        "unknown-kind.yaml": ("kind: limt", "kind: limit"),
        "reciprocal-typo.yaml": ("reciprocal: cpa", "reciprocal: cap"),
        "capability-undefined-site.yaml": ("[deveselu, devselu]", "[deveselu]"),
        "misspelt-required-field.yaml": ("maximum: 700", "max: 700"),
        "dates-out-of-order.yaml": ("entry_into_force: 2010-02-05", "entry_into_force: 2011-02-05"),
        "norway-no.yaml": ("deployed: NO}", "deployed: false}"),
        "alias.yaml": ("*art", '"Art. II"'),
        "seven-negative-limit.yaml": ("max: -5", "max: 5"),
        "too-deep.yaml": ("max: " + "[" * 70 + "1" + "]" * 70, "max: 1"),
        "include-outside.yaml": ("include: [/etc/passwd]\n", ""),
    }
    for name, (old, new) in fixes.items():
        text = (BROKEN / name).read_text(encoding="utf-8")
        assert text.count(old) == 1, name
        mended = tmp_path / name
        mended.write_text(text.replace(old, new).replace("&art ", ""), encoding="utf-8")
        assert load_agreement(mended).obligations, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_validate_exits_2_with_the_location(name: str) -> None:
    line, column, _, words, _ = EXPECTED[name]
    path = BROKEN / name
    res = CliRunner().invoke(app, ["agreement", "validate", str(path)])
    assert res.exit_code == 2
    # rich wraps stderr at 80 columns when it is not a terminal; the text is whole once unwrapped
    assert res.stderr.replace("\n", "").startswith(f"error {path}:{line}:{column}:")
    res = CliRunner().invoke(app, ["agreement", "validate", str(path), "--json"])
    assert res.exit_code == 2
    (result,) = json.loads(res.stdout)
    assert result["ok"] is False
    assert (result["error"]["file"], result["error"]["line"], result["error"]["column"]) == (str(path), line,
                                                                                               column)
    assert result["message"].startswith(f"{path}:{line}:{column}:")
    assert words[0] in result["message"]


def test_cli_validate_reports_each_file(tmp_path: Path) -> None:
    """Several files: each gets its own verdict; one broken file makes the exit status 2."""
    good = Path(__file__).parents[2] / "src/detente/scenarios/2022/agreements/new-start.yaml"
    bad = BROKEN / "negative-limit.yaml"
    res = CliRunner().invoke(app, ["agreement", "validate", str(good), str(bad), "--json"])
    assert res.exit_code == 2
    verdicts = json.loads(res.stdout)
    assert [v["ok"] for v in verdicts] == [True, False]
    assert verdicts[0]["agreement"] == "new-start"
    res = CliRunner().invoke(app, ["agreement", "validate", str(good)])
    assert res.exit_code == 0


#: Too big to commit: generated. name -> (text, line, column, words). Each was a RecursionError
#: traceback from `agreement validate` before the composer counted its depth.
GENERATED: dict[str, tuple[str, int, int, str]] = {
    "flow-100000-deep.yaml": ("[" * 100_000 + "]" * 100_000 + "\n", 1, 65, "nested more than 64 levels"),
    "flow-mappings-100000-deep.yaml": ("{a: " * 100_000 + "1" + "}" * 100_000 + "\n", 1, 257,
                                       "nested more than 64 levels"),
    "block-1400-deep.yaml": ("".join(" " * i + "a:\n" for i in range(1400)) + " " * 1400 + "x\n", 65, 65,
                             "nested more than 64 levels"),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_cli_validate_refuses_generated_hostile_files(tmp_path: Path, name: str) -> None:
    text, line, column, words = GENERATED[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(app, ["agreement", "validate", str(path)])
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit), res.exception  # an exit status, not a crash
    assert "Traceback" not in res.output
    assert res.stderr.replace("\n", "").startswith(f"error {path}:{line}:{column}: {words}")


def test_cli_validate_refuses_a_1500_deep_block_mapping_by_its_size(tmp_path: Path) -> None:
    """1,500 levels of block mapping cannot be written in 1 MiB: refused before it is read."""
    path = tmp_path / "block-1500-deep.yaml"
    path.write_text("".join("  " * i + "a:\n" for i in range(1500)) + "  " * 1500 + "x\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["agreement", "validate", str(path), "--json"])
    assert res.exit_code == 2, res.output
    (result,) = json.loads(res.stdout)
    assert result["message"] == f"{path}: file is larger than 1048576 bytes; split it"
