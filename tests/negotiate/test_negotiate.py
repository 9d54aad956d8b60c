"""Comparing proposals by meaning, and what one would change on the ground."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detente.agreement.loader import load_agreement
from detente.cli import app
from detente.errors import AgreementError
from detente.negotiate import diff, impact
from detente.negotiate.diff import canonical
from detente.scenarios import agreement_files, scenario_dir
from detente.workspace import Workspace

PROPOSALS = scenario_dir("2022") / "proposals"
ALL = [*agreement_files("2022"), *sorted(PROPOSALS.glob("*.yaml"))]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_a_diff_of_an_agreement_with_itself_is_empty(path: Path) -> None:
    ag = load_agreement(path)
    d = diff(ag, load_agreement(path))
    assert d.empty
    assert not d.only_a
    assert not d.only_b
    assert len(d.both) == len(ag.obligations)


def _copy(tmp: Path, name: str, text: str) -> Path:
    """A variant of the US response in a folder of its own, with the vocabulary and sites it
    includes beside it (an agreement's includes stay inside its folder)."""
    src = scenario_dir("2022")
    d = tmp / "proposals"
    d.mkdir(exist_ok=True)
    for f in ("vocabulary.yaml", "sites.yaml"):
        (d / f).write_text((src / f).read_text())
        text = text.replace(f"../{f}", f)
    p = d / name
    p.write_text(text)
    return p


US = (PROPOSALS / "us-response-2022-01-26.yaml").read_text()


def test_renamed_and_rewritten_rules_still_match(tmp_path: Path) -> None:
    """Ids, clauses and the form of a selector do not matter, only what it selects."""
    text = (US.replace("id: intermediate-range-talks", "id: inf-band")
              .replace("id: no-offensive-missiles-in-ukraine", "id: ukraine-missiles")
              .replace("reciprocal: no-offensive-missiles-in-ukraine", "reciprocal: ukraine-missiles")
              .replace("select: $intermediate_range_ground",
                       "select: '5500 >= range_km and range_km >= 500 and category in [\"GLBM\", \"GLCM\"]'")
              .replace('clause: "U.S. response: reciprocal commitments in Ukraine"', 'clause: "Art. 9"'))
    other = load_agreement(_copy(tmp_path, "v.yaml", text))
    d = diff(load_agreement(PROPOSALS / "us-response-2022-01-26.yaml"), other)
    assert d.empty, d.to_json()
    pairs = {(x.a.id, x.b.id) for x in d.both}
    assert ("intermediate-range-talks", "inf-band") in pairs
    assert ("no-offensive-missiles-in-ukraine", "ukraine-missiles") in pairs


@pytest.mark.parametrize(("a", "b"), [
    ('category == "GLCM" and range_km >= 500', '500 <= range_km and category == "GLCM"'),
    ('(deployed and category == "ICBM") and range_km > 5500',
     'range_km > 5500 and (category == "ICBM" and deployed)'),
    ('500 <= range_km <= 5500', 'range_km <= 5500 and range_km >= 500'),
    ('category in ["SLBM", "ICBM"]', 'category in ["ICBM", "SLBM"]'),
    ('category == "GLCM" or category == "GLBM"', 'category == "GLBM" or category == "GLCM"'),
])
def test_equivalent_forms_have_one_canonical_text(a: str, b: str) -> None:
    from detente.agreement.selector import compile_selector

    vocab = load_agreement(agreement_files("2022")[0]).vocabulary
    assert canonical(compile_selector(a, vocab)) == canonical(compile_selector(b, vocab))


def test_different_meanings_do_not_collapse() -> None:
    from detente.agreement.selector import compile_selector

    vocab = load_agreement(agreement_files("2022")[0]).vocabulary
    forms = ['range_km >= 500', 'range_km > 500', 'not range_km >= 500', 'range_km >= 500 or deployed',
             'range_km >= 500 and deployed']
    assert len({canonical(compile_selector(f, vocab)) for f in forms}) == len(forms)


def test_changed_bounds_and_terms_are_reported_with_both_values(tmp_path: Path) -> None:
    text = US.replace("quota: {count: 2, per: year}      # illustrative", "quota: {count: 4, per: year}")
    text = text.replace("    notice_hours: 48                  # illustrative\n    selection: unilateral",
                        "    notice_hours: 24\n    selection: unilateral")
    base = load_agreement(PROPOSALS / "us-response-2022-01-26.yaml")
    d = diff(base, load_agreement(_copy(tmp_path, "v.yaml", text)))
    assert not d.empty
    changes = {(x.a.id, c.term): (c.a, c.b) for x in d.both for c in x.changes}
    assert changes[("russian-visits-aegis", "quota")] == ("2 per year", "4 per year")
    assert changes[("us-visits-two-bases", "notice_hours")] == (48, 24)


def test_asymmetries_and_reciprocal_pairs() -> None:
    us = load_agreement(PROPOSALS / "us-response-2022-01-26.yaml")
    ru = load_agreement(PROPOSALS / "ru-us-treaty-2021-12-17.yaml")
    d = diff(ru, us)
    lone = {(ag, o.id) for ag, o in d.asymmetric}
    # Article 4 binds the United States alone, and nothing binds Russia in return
    assert ("ru-us-security-treaty-draft", "no-us-forces-in-former-ussr") in lone
    pairs = {(p.agreement, p.first, p.second) for p in d.reciprocal}
    assert ("us-response-2022", "russian-visits-aegis", "us-visits-two-bases") in pairs
    # where the texts meet without matching: the same missiles, a zone against a ban
    related = {(x.id, y.id) for x, y, _ in d.related}
    assert ("no-intermediate-range-missiles-abroad", "intermediate-range-talks") in related
    unmodelled = d.to_json()["unmodelled"]["ru-us-security-treaty-draft"]
    assert unmodelled[0]["clause"] == "Article 4, first paragraph"


@pytest.mark.parametrize(("old", "new", "match"), [
    ("  - {id: RU, name: Russian Federation}\n",
     "  - {id: RU, name: Russian Federation}\n  - {id: UK, name: United Kingdom}\n"
     "  - {id: UK, name: again}\n",
     r"party 'UK' is listed twice"),
    ("inspected: US\n", "inspected: FR\n", r"FR"),
    ("select: 'category == \"Tomahawk\"'", "select: 'category == \"Tomahawks\"'", r"Tomahawks"),
])
def test_bad_proposals_are_refused_with_the_loaders_message(
        tmp_path: Path, old: str, new: str, match: str) -> None:
    assert old in US
    p = _copy(tmp_path, "bad.yaml", US.replace(old, new, 1))
    with pytest.raises(AgreementError, match=match) as info:
        load_agreement(p)
    assert re.match(rf"{re.escape(str(p))}:\d+:\d+: ", info.value.message)


def test_impact_names_sites_items_and_what_it_would_take(demo_ws: Path) -> None:
    ws = Workspace.open(demo_ws)
    import datetime as dt

    imp = impact(load_agreement(PROPOSALS / "ru-nato-agreement-2021-12-17.yaml"), ws, dt.date(2022, 3, 1))
    rows = imp.by_party()
    us = next(r for r in rows["US"] if r["obligation"] == "posture-of-27-may-1997")
    assert {s["site"] for s in us["sites"]} == {"deveselu", "redzikowo"}
    assert us["value"] == 30  # 6 MK 41 launchers and 24 SM-3: everything the US has in Poland and Romania
    assert us["remedy"].startswith("move 30 item(s) out of zone nato-after-1997")
    ru = next(r for r in rows["RU"] if r["obligation"] == "no-intermediate-range-missiles-within-reach"
              and r["reading"] == "US reading")
    # Kamyshlov lies east of the Urals, outside the zone
    assert {s["site"] for s in ru["sites"]} == {"kapustin-yar", "mozdok", "shuya"}
    assert not [r for r in rows["RU"] if r["obligation"] == "no-intermediate-range-missiles-within-reach"
                and r["reading"] == "RU reading"]
    assert imp.to_json()["clean"] is False


def test_cli_json(demo_ws: Path) -> None:
    a = str(PROPOSALS / "us-response-2022-01-26.yaml")
    res = CliRunner().invoke(app, ["negotiate", "diff", a, a, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["empty"] is True
    res = CliRunner().invoke(app, ["negotiate", "impact", str(PROPOSALS / "ru-us-treaty-2021-12-17.yaml"),
                                   "--workspace", str(demo_ws), "--at", "2022-03-01", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["proposal"] == "ru-us-security-treaty-draft"
    res = CliRunner().invoke(app, ["negotiate", "impact", a, "--workspace", str(demo_ws), "--at", "March"])
    assert res.exit_code == 2
    assert "--at 'March' is not a date; write YYYY-MM-DD" in res.output  # the same words as check
