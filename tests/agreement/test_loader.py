"""The loader's meaning checks beyond the corpus, the resolved model, and the shipped agreements."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from detente.agreement.loader import load_agreement
from detente.agreement.model import Capability, Counted
from detente.errors import AgreementError

SCENARIO = Path(__file__).parents[2] / "src/detente/scenarios/2022/agreements"

HEAD = """\
agreement: t
title: T
legal_status: ratified-treaty
parties: [{id: US, name: U}, {id: RU, name: R}]
definitions:
  attributes:
    range_km: {type: number}
    deployed: {type: bool}
    system: {type: string}
    can_launch: {type: list}
  categories:
    ICBM: {attributes: [range_km, deployed]}
    GLCM: {attributes: [range_km, system]}
    GLCM launcher: {defaults: {can_launch: [GLCM]}}
sites:
  - {id: s1, name: S1, owner: RU, host: RU, kind: brigade, location: [45, 55]}
  - {id: s2, name: S2, owner: US, host: US, kind: base, location: [-100, 40]}
"""
HEAD_LINES = HEAD.count("\n")


def write(tmp_path: Path, body: str, head: str = HEAD, name: str = "t.yaml") -> Path:
    p = tmp_path / name
    p.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return p


def refused(tmp_path: Path, body: str, head: str = HEAD) -> AgreementError:
    p = write(tmp_path, body, head)
    with pytest.raises(AgreementError) as caught:
        load_agreement(p)
    assert caught.value.message.startswith(f"{p}:{caught.value.line}:{caught.value.column}: ")
    return caught.value


# ------------------------------------------------------------------ selector columns and quoting


@pytest.mark.parametrize(
    ("written", "line", "column"),
    [
        ("select: 'deployed and category == \"ICMB\"'", 3, 39),  # single-quoted: inside the quote
        ('select: "deployed and category == \\"ICMB\\""', 3, 39),  # double-quoted (escapes start at \\)
        ('select: deployed and category == "ICMB"', 3, 38),  # plain: no quote to skip
        ("select: '  deployed and category == \"ICMB\"'", 3, 41),  # leading blanks inside the quotes
        # a block scalar: the value's own mark (a column inside it is not one offset)
        ('select: >-\n          deployed and\n          category == "ICMB"', 3, 13),
    ],
)
def test_selector_error_column_follows_the_quoting(tmp_path: Path, written: str, line: int,
                                                  column: int) -> None:
    body = f"""\
    obligations:
      - id: cap
        kind: limit
        clause: A
        {written}
        max: 1
    """
    exc = refused(tmp_path, body)
    assert "unknown category 'ICMB'" in exc.message
    assert (exc.line, exc.column) == (HEAD_LINES + line + 2, column)


def test_named_selector_error_is_reported_at_its_definition(tmp_path: Path) -> None:
    head = HEAD.replace("sites:\n", "  selectors:\n    far: 'range_km > \"far\"'\nsites:\n")
    exc = refused(tmp_path, """\
    obligations:
      - {id: cap, kind: limit, clause: A, select: $far, max: 1}
    """, head)
    assert exc.field == "definitions.selectors.far"
    assert (exc.line, exc.column) == (16, 22)


# ------------------------------------------------------------------ meaning checks


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("""\
         obligations:
           - {id: c, kind: limit, clause: A, select: 'deployed', counting: [{where: deployed, counts_as: 1}],
              max: 1}
         """, "obligations[0].counting", "counting rules apply to a sum"),
        ("""\
         obligations:
           - {id: c, kind: limit, clause: A, select: 'deployed', sum: system, max: 1}
         """, "obligations[0].sum", "cannot sum 'system'"),
        ("""\
         obligations:
           - {id: c, kind: limit, clause: A, select: 'deployed', sum: warheads, max: 1}
         """, "obligations[0].sum", "undefined attribute 'warheads'"),
        ("""\
         obligations:
           - {id: z, kind: zone, clause: A, select: 'deployed'}
         """, "obligations[0]", "exactly one of zone: or sites:"),
        ("""\
         obligations:
           - {id: n, kind: notify, clause: A, event: movement, within_days: 5, advance_days: 2}
         """, "obligations[0]", "exactly one of within_days: or advance_days:"),
        ("""\
         obligations:
           - {id: n, kind: notify, clause: A, event: moving, within_days: 5}
         """, "obligations[0].event", "'moving' is not allowed"),
        ("""\
         obligations:
           - {id: i, kind: inspection, clause: A, inspecting: US, inspected: US, quota: {count: 1, per: year},
              notice_hours: 1, selection: challenge}
         """, "obligations[0].inspected", "does not inspect itself"),
        ("""\
         obligations:
           - {id: i, kind: inspection, clause: A, inspecting: US, inspected: RU, quota: {count: 1, per: year},
              notice_hours: 1, selection: challenge, sites: [s2]}
         """, "obligations[0].sites[0]", "belongs to US, not the inspected party RU"),
        ("""\
         obligations:
           - {id: i, kind: inspection, clause: A, inspecting: US, inspected: RU, quota: {count: 1, per: year},
              notice_hours: 1, selection: joint-random}
         """, "obligations[0].selection", "needs the pool"),
        ("""\
         obligations:
           - {id: e, kind: exchange, clause: A, as_of: ["02-30"], due_days: 30}
         """, "obligations[0].as_of[0]", "'02-30' is not a month-day"),
        ("""\
         obligations:
           - {id: e, kind: exchange, clause: A, as_of: [], due_days: 30}
         """, "obligations[0].as_of", "at least one entry"),
        ("""\
         obligations:
           - id: c
             kind: capability
             clause: A
             launcher: 'category == "GLCM launcher"'
             banned: 'category == "GLCM"'
             sites: [s1]
             interpretations: {US: {reading: mine}}
         """, "obligations[0].interpretations", "interpretations apply to limits, bans and zones"),
        ("""\
         obligations:
           - id: b
             kind: ban
             clause: A
             select: 'category == "GLCM"'
             interpretations: {US: {reading: mine, max: 3}}
         """, "obligations[0].interpretations.US", "a ban has no sum, counting or max"),
        ("""\
         obligations:
           - id: b
             kind: ban
             clause: A
             select: 'category == "GLCM"'
             interpretations: {UK: {reading: mine}}
         """, "obligations[0].interpretations.UK", "'UK' is not a party"),
        ("""\
         obligations:
           - id: b
             kind: ban
             clause: A
             select: 'category == "GLCM"'
             conditions: [{reciprocal: b, after: 2020-01-01}]
         """, "obligations[0].conditions[0]", "a reciprocal condition stands alone"),
        ("""\
         obligations:
           - id: b
             kind: ban
             clause: A
             select: 'category == "GLCM"'
             conditions: [{after: 2020-1-1}]
         """, "obligations[0].conditions[0].after", "a date written YYYY-MM-DD"),
        ("""\
         obligations:
           - id: b
             kind: ban
             clause: A
             select: 'category == "GLCM"'
             assume: [{where: 'category == "GLCM"', set: {category: ICBM}}]
         """, "obligations[0].assume[0].set.category", "cannot set 'category'"),
        ("""\
         obligations:
           - id: b
             kind: ban
             clause: A
             select: 'category == "GLCM"'
             assume: [{where: 'category == "GLCM"', set: {range_km: far}}]
         """, "obligations[0].assume[0].set.range_km", "'far' does not fit attribute 'range_km'"),
    ],
)
def test_meaning_checks(tmp_path: Path, body: str, field: str, words: str) -> None:
    exc = refused(tmp_path, body)
    assert exc.field == field
    assert words in exc.message


@pytest.mark.parametrize(
    ("head_change", "field", "words"),
    [
        (("    system: {type: string}\n", "    party: {type: string}\n"),
         "definitions.attributes.party", "'party' is built in"),
        (("    system: {type: string}\n", "    system: {type: enum}\n"),
         "definitions.attributes.system.type", "an enum needs its values"),
        (("    ICBM: {attributes: [range_km, deployed]}\n", "    ICBM: {attributes: [range, deployed]}\n"),
         "definitions.categories.ICBM.attributes[0]", "undefined attribute 'range'"),
        (("{defaults: {can_launch: [GLCM]}}", "{defaults: {can_launch: [GLMC]}}"),
         "definitions", "can_launch names undefined category 'GLMC'"),
        (("owner: RU, host: RU", "owner: CN, host: RU"), "sites[0].owner", "'CN' is not a party"),
        (("legal_status: ratified-treaty\n", "legal_status: ratified-treaty\nproposed_by: CN\n"),
         "proposed_by", "'CN' is not a party"),
        (("parties: [{id: US, name: U}, {id: RU, name: R}]",
          "parties: [{id: US, name: U}, {id: US, name: R}]"),
         "parties[1].id", "party 'US' is listed twice"),
        (("parties: [{id: US, name: U}, {id: RU, name: R}]", "parties: []"), "parties", "at least one entry"),
        (("parties: [{id: US, name: U}, {id: RU, name: R}]", "parties: [{id: us, name: U}]"),
         "parties[0].id", "not a valid identifier"),
        (("legal_status: ratified-treaty\n", "legal_status: ratified-treaty\nentry_into_force: 2020-01-01\n"
          "expires: 2019-01-01\n"), "expires", "expires before it enters into force"),
    ],
)
def test_definition_checks(tmp_path: Path, head_change: tuple[str, str], field: str, words: str) -> None:
    old, new = head_change
    assert old in HEAD
    exc = refused(tmp_path, "obligations: []\n", HEAD.replace(old, new))
    assert exc.field == field
    assert words in exc.message


# ------------------------------------------------------------------ includes, zones, resolved model


def test_include_shares_definitions_and_refuses_a_conflict(tmp_path: Path) -> None:
    (tmp_path / "vocab.yaml").write_text(textwrap.dedent("""\
        definitions:
          attributes:
            range_km: {type: number}
          categories:
            GLCM: {attributes: [range_km]}
          selectors:
            band: '500 <= range_km <= 5500'
        zones:
          box: {polygon: [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]}
        sites:
          - {id: a, name: A, owner: RU, host: RU, kind: brigade, location: [5, 5]}
          - {id: z, name: Z, owner: CN, host: CN, kind: base, location: [1, 1]}
        """))
    head = ("agreement: t\ntitle: T\nlegal_status: ratified-treaty\n"
            "parties: [{id: US, name: U}, {id: RU, name: R}]\n")
    ag = load_agreement(write(tmp_path, """\
        include: [vocab.yaml]
        obligations:
          - {id: b, kind: zone, clause: A, select: $band, zone: box}
        """, head))
    assert set(ag.sites) == {"a"}  # sites of non-parties in a shared file are left out
    assert ag.zones["box"].geometry.area == 100
    (ob,) = ag.obligations
    assert isinstance(ob, Counted)
    assert ob.readings[0].select.text == "500 <= range_km <= 5500"
    exc = refused(tmp_path, """\
        include: [vocab.yaml]
        definitions:
          attributes:
            range_km: {type: integer}
        obligations: []
        """, head)
    assert exc.field == "definitions.attributes.range_km"
    assert "defined twice, differently" in exc.message


def test_include_errors_name_the_included_file(tmp_path: Path) -> None:
    (tmp_path / "vocab.yaml").write_text("definitions:\n  attributes:\n    range_km: {type: nubmer}\n")
    p = write(tmp_path, "include: [vocab.yaml]\nobligations: []\n",
              "agreement: t\ntitle: T\nlegal_status: ratified-treaty\nparties: [{id: US, name: U}]\n")
    with pytest.raises(AgreementError) as caught:
        load_agreement(p)
    exc = caught.value
    assert (exc.file, exc.line, exc.column) == (str(tmp_path / "vocab.yaml"), 3, 22)
    assert exc.suggestion == "did you mean 'number'?"


INC_HEAD = "agreement: t\ntitle: T\nlegal_status: ratified-treaty\nparties: [{id: US, name: U}]\n"
VOCAB = "definitions:\n  attributes:\n    range_km: {type: number}\n"


@pytest.mark.parametrize("how", ["absolute", "dotdot", "dotdot-via-subfolder", "symlink-file",
                                 "symlink-folder"])
def test_includes_outside_the_agreement_folder_are_refused(tmp_path: Path, how: str) -> None:
    """Security review: include: read absolute and ../ paths (and symlinks pointing out)."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "vocab.yaml").write_text(VOCAB)
    folder = tmp_path / "agreements"
    (folder / "sub").mkdir(parents=True)
    if how == "symlink-file":
        (folder / "vocab.yaml").symlink_to(outside / "vocab.yaml")
    if how == "symlink-folder":
        (folder / "linked").symlink_to(outside, target_is_directory=True)
    inc = {"absolute": str(outside / "vocab.yaml"), "dotdot": "../elsewhere/vocab.yaml",
           "dotdot-via-subfolder": "sub/../../elsewhere/vocab.yaml", "symlink-file": "vocab.yaml",
           "symlink-folder": "linked/vocab.yaml"}[how]
    p = write(folder, f"include: [x.yaml, '{inc}']\nobligations: []\n", INC_HEAD)
    (folder / "x.yaml").write_text("{}\n")
    with pytest.raises(AgreementError) as caught:
        load_agreement(p)
    exc = caught.value
    line = INC_HEAD.count("\n") + 1
    assert (exc.file, exc.line, exc.column, exc.field) == (str(p), line, 19, "include[1]")
    assert exc.message.startswith(f"{p}:{line}:19: include[1]: included file '{inc}' is outside the "
                                  "folder of t.yaml")
    assert "--allow-include-outside" in exc.message
    # what to do: trust it explicitly (the API parameter, and the CLI flag of `agreement validate`)
    assert load_agreement(p, allow_outside=True).attributes["range_km"]
    from typer.testing import CliRunner

    from detente.cli import app

    res = CliRunner().invoke(app, ["agreement", "validate", str(p)])
    assert res.exit_code == 2
    assert res.stderr.replace("\n", "").startswith(f"error {p}:{line}:19: include[1]:")
    res = CliRunner().invoke(app, ["agreement", "validate", "--allow-include-outside", str(p)])
    assert res.exit_code == 0, res.output


def test_an_include_outside_is_refused_before_looking_for_it(tmp_path: Path) -> None:
    """No oracle for what exists elsewhere: a missing file outside gets the same refusal."""
    (tmp_path / "a").mkdir()
    p = write(tmp_path / "a", "include: [../../nowhere/vocab.yaml]\nobligations: []\n", INC_HEAD)
    with pytest.raises(AgreementError, match=r"is outside the folder of t\.yaml"):
        load_agreement(p)
    with pytest.raises(AgreementError, match=r"not found next to t\.yaml"):
        load_agreement(p, allow_outside=True)


def test_includes_inside_the_folder_and_shipped_vocabularies_load(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "vocab.yaml").write_text(VOCAB)
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "sub" / "vocab.yaml")  # a symlink that stays in
    shipped = SCENARIO.parent / "vocabulary.yaml"
    for inc in ("sub/vocab.yaml", "./sub/../sub/vocab.yaml", "alias.yaml", str(shipped.resolve())):
        ag = load_agreement(write(tmp_path, f"include: ['{inc}']\nobligations: []\n", INC_HEAD))
        assert "range_km" in ag.attributes, inc
    # the shipped agreements include ../vocabulary.yaml: the shipped vocabularies are allowed
    for f in sorted(SCENARIO.glob("*.yaml")) + sorted((SCENARIO.parent / "proposals").glob("*.yaml")):
        assert load_agreement(f).obligations, f


def test_geojson_zone_file_beside_the_agreement(tmp_path: Path) -> None:
    (tmp_path / "area.geojson").write_text(json.dumps({"type": "Polygon", "coordinates": [
        [[20, 40], [30, 40], [30, 50], [20, 50], [20, 40]]]}))
    ag = load_agreement(write(tmp_path, """\
        zones:
          area: {geojson: area.geojson}
        obligations:
          - {id: z, kind: zone, clause: A, select: 'category == "GLCM"', zone: area}
        """))
    assert ag.zones["area"].geometry.area == 100
    exc = refused(tmp_path, """\
        zones:
          area: {geojson: nowhere.geojson}
        obligations: []
        """)
    assert exc.field == "zones.area.geojson"
    assert "cannot read GeoJSON file" in exc.message
    exc = refused(tmp_path, """\
        zones:
          area: {builtin: ukraine, polygon: [[0, 0], [1, 0], [1, 1], [0, 0]]}
        obligations: []
        """)
    assert "exactly one of builtin, geojson, polygon" in exc.message
    exc = refused(tmp_path, """\
        zones:
          area: {builtin: ukrane}
        obligations: []
        """)
    assert exc.field == "zones.area.builtin"
    assert "did you mean 'ukraine'?" in exc.message


def test_readings_partial_and_full(tmp_path: Path) -> None:
    body = """\
    obligations:
      - id: cap
        kind: limit
        clause: A
        select: 'category == "ICBM"'
        max: 10
        interpretations:
          US: {reading: "deployed only", select: 'category == "ICBM" and deployed'}
    """
    (ob,) = load_agreement(write(tmp_path, body)).obligations
    assert isinstance(ob, Counted)
    # RU has not said how it reads the rule: the agreed text stays, as RU's reading
    assert [r.by for r in ob.readings] == [None, "US"]
    assert ob.readings[1].max == 10
    assert ob.readings[1].select.text.endswith("and deployed")
    body += "      RU: {reading: \"as written\", max: 12}\n"
    (ob,) = load_agreement(write(tmp_path, body)).obligations
    assert isinstance(ob, Counted)
    assert [r.by for r in ob.readings] == ["US", "RU"]
    assert ob.readings[1].select.text == 'category == "ICBM"'
    assert ob.readings[1].max == 12
    assert ob.interpreted


def test_stage_at(tmp_path: Path) -> None:
    head = HEAD.replace("legal_status: ratified-treaty\n", "legal_status: ratified-treaty\n"
                        "signed: 2010-04-08\nentry_into_force: 2011-02-05\nexpires: 2026-02-05\n")
    ag = load_agreement(write(tmp_path, "obligations: []\n", head))
    assert ag.stage_at(dt.date(2010, 1, 1)) == "proposed"
    assert ag.stage_at(dt.date(2010, 4, 8)) == "signed"
    assert ag.stage_at(dt.date(2011, 2, 5)) == "in-force"
    assert ag.stage_at(dt.date(2026, 2, 4)) == "in-force"
    assert ag.stage_at(dt.date(2026, 2, 5)) == "expired"
    assert (ag.signed, ag.entry_into_force) == (dt.date(2010, 4, 8), dt.date(2011, 2, 5))


# ------------------------------------------------------------------ the shipped scenario


def test_shipped_agreements_load() -> None:
    ags = {p.stem: load_agreement(p) for p in sorted(SCENARIO.glob("*.yaml"))}
    assert set(ags) == {"new-start", "inf-range-ban", "aegis-ashore-transparency", "ukraine-non-deployment"}
    ns = ags["new-start"]
    assert ns.stage_at(dt.date(2022, 3, 1)) == "in-force"
    launchers = ns.obligation("launchers")
    assert isinstance(launchers, Counted)
    assert [(r.by, r.max) for r in launchers.readings] == [("US", 800), ("RU", 800)]
    warheads = ns.obligation("deployed-warheads")
    assert isinstance(warheads, Counted)
    assert warheads.readings[0].sum == "warheads"
    assert [c for _, c in warheads.readings[0].counting] == [1]
    for pid in ("aegis-ashore-transparency", "ukraine-non-deployment", "inf-range-ban"):
        assert ags[pid].stage_at(dt.date(2022, 3, 1)) == "proposed"
    aegis = ags["aegis-ashore-transparency"]
    cap = aegis.obligation("aegis-launchers-not-tomahawk-capable")
    assert isinstance(cap, Capability)
    assert "Tomahawk" in cap.banned_categories
    assert "SM-3" not in cap.banned_categories
    assert {"deveselu", "redzikowo"} <= set(aegis.sites)


def test_treaty_periods_are_explained_not_misspelled(tmp_path: Path) -> None:
    """`per: treaty-year` is not a typo of `half-year`: treaty years are years counted from entry
    into force, and the error says how to write them."""
    text = (tmp_path / "a.yaml")
    base = Path(__file__).parents[2] / "src/detente/scenarios/2022/agreements/aegis-ashore-transparency.yaml"
    src = base.read_text()
    assert "per: year" in src
    text.write_text(src.replace("per: year", "per: treaty-year", 1))
    for f in ("vocabulary.yaml", "sites.yaml"):
        (tmp_path / f).write_text((base.parent.parent / f).read_text())
    text.write_text(text.read_text().replace("../", ""))
    with pytest.raises(AgreementError, match="write per: year with from: entry-into-force") as info:
        load_agreement(text)
    assert "did you mean" not in info.value.message
