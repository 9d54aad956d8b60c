"""Limits, bans and zones on small hand-built states: exact boundaries, counting rules, gaps in the
record, zones by shape and by site, interpretations and what they count differently."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.helpers import AT, SCENARIO, Log, agreement, find, item
from detente.agreement.loader import load_agreement
from detente.agreement.model import Agreement
from detente.errors import AgreementError

TREATY = """\
agreement: t
title: Test Treaty
legal_status: ratified-treaty
signed: 2020-01-01
entry_into_force: 2021-01-01
withdrawal: {clause: "Article XV", notice_days: 90}
parties: [{id: US, name: United States}, {id: RU, name: Russia}]
definitions:
  attributes:
    deployed: {type: bool}
    warheads: {type: integer}
    range_km: {type: number}
    status: {type: enum, values: [operational, converted, training]}
    system: {type: string}
  categories:
    ICBM: {attributes: [deployed, warheads]}
    heavy bomber: {attributes: [deployed, status, warheads]}
    ICBM launcher: {attributes: [status], defaults: {status: operational}}
    GLCM: {attributes: [range_km, system]}
zones:
  box: {polygon: [[20, 40], [30, 40], [30, 50], [20, 50], [20, 40]]}
sites:
  - {id: inside, name: In, owner: RU, host: RU, kind: brigade, location: [25, 45]}
  - {id: outside, name: Out, owner: RU, host: RU, kind: brigade, location: [35, 45]}
  - {id: on-border, name: Edge, owner: RU, host: RU, kind: brigade, location: [30, 45]}
obligations:
  - id: vehicles
    kind: limit
    clause: "Article II.1(a)"
    select: 'category in ["ICBM", "heavy bomber"] and deployed'
    max: 10
  - id: warheads
    kind: limit
    clause: "Article II.1(b)"
    select: 'category in ["ICBM", "heavy bomber"] and deployed'
    sum: warheads
    counting: [{where: 'category == "heavy bomber"', counts_as: 1}]
    max: 20
  - id: launchers
    kind: limit
    clause: "Article II.1(c)"
    select: 'category in ["ICBM launcher", "heavy bomber"]'
    max: 10
    interpretations:
      US:
        reading: "converted and training do not count"
        select: >-
          category in ["ICBM launcher", "heavy bomber"] and not (status in ["converted", "training"])
      RU: {reading: "everything counts"}
  - id: no-intermediate-glcm
    kind: ban
    clause: "Article IV"
    select: 'category == "GLCM" and 500 <= range_km <= 5500'
    interpretations:
      US:
        reading: "the 9M729 flies 500 km or more"
        assume: [{where: 'system == "9M729"', set: {range_km: 500}}]
      RU: {reading: "the 9M729 flies 480 km"}
  - id: no-glcm-in-box
    kind: zone
    clause: "Article V"
    select: 'category == "GLCM"'
    zone: box
  - id: no-glcm-at-outside
    kind: zone
    clause: "Article VI"
    select: 'category == "GLCM"'
    sites: [outside]
"""


@pytest.fixture
def treaty(tmp_path: Path) -> Agreement:
    return agreement(tmp_path, TREATY)


# ------------------------------------------------------------------ limits


@pytest.mark.parametrize(("icbms", "status"), [(9, "compliant"), (10, "compliant"), (11, "violation")])
def test_limit_exact_boundary(treaty: Agreement, icbms: int, status: str) -> None:
    log = Log()
    log.declare("US", [item("ICBM", icbms - 1, deployed=True), item("heavy bomber", 1, deployed=True),
                       item("ICBM", 50, deployed=False), item("GLCM", 99)])
    f = find(log.run(treaty), "vehicles", "US")
    assert (f.status, f.value, f.bound, f.unit) == (status, icbms, 10, "item")
    assert (f.kind, f.clause, f.agreement, f.at, f.interpretation) == ("limit", "Article II.1(a)", "t",
                                                                     AT.isoformat(), None)
    if status == "violation":
        assert "1 over" in f.explanation
        assert f.legal is not None
        assert "Article XV" in f.legal
        assert "90 days" in f.legal
    else:
        assert f"({10 - icbms} under)" in f.explanation
        assert f.legal is None
    assert [e.index for e in f.evidence] == [0]
    assert f.evidence[0].role == "US's declaration as of 2022-03-01"
    assert sum(s["count"] for s in f.sites) == icbms


def test_limit_counts_only_the_bound_partys_items(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("ICBM", 3, deployed=True)])
    log.declare("RU", [item("ICBM", 40, deployed=True)])
    fs = log.run(treaty)
    assert find(fs, "vehicles", "US").value == 3
    assert find(fs, "vehicles", "RU").value == 40
    assert find(fs, "vehicles", "RU").evidence[0].index == 1


@pytest.mark.parametrize(("icbm_warheads", "status"), [(9, "compliant"), (10, "violation")])
def test_sum_with_counting_rule(treaty: Agreement, icbm_warheads: int, status: str) -> None:
    """Each deployed heavy bomber counts as one warhead, whatever it can carry (New START III.2(c))."""
    log = Log()
    log.declare("US", [
        item("ICBM", 2, deployed=True, warheads=icbm_warheads),
        item("heavy bomber", 2, deployed=True, warheads=16),  # counts 2, not 32
        item("heavy bomber", 5, deployed=False, warheads=16),  # not deployed: not counted at all
    ])
    f = find(log.run(treaty), "warheads", "US")
    assert (f.status, f.value, f.bound, f.unit) == (status, 2 * icbm_warheads + 2, 20, "warheads")
    by_category = {i["category"]: i["count"] for i in f.items}
    assert by_category == {"ICBM": 2 * icbm_warheads, "heavy bomber": 2}


def test_missing_attribute_is_unverified_with_a_lower_bound(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("ICBM", 2, deployed=True, warheads=3), item("ICBM", 4, deployed=True)])
    f = find(log.run(treaty), "warheads", "US")
    assert (f.status, f.value) == ("unverified", 6)
    assert "1 matching holdings lack 'warheads', so the total is a lower bound" in f.explanation
    assert f.legal is None


def test_a_lower_bound_already_over_the_limit_is_a_violation(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("ICBM", 3, deployed=True, warheads=10), item("ICBM", 4, deployed=True)])
    f = find(log.run(treaty), "warheads", "US")
    assert (f.status, f.value) == ("violation", 30)
    assert "lower bound" in f.explanation


def test_no_declaration_and_aggregates_only_are_unverified(treaty: Agreement) -> None:
    log = Log()
    log.declare("RU", None, aggregates={"deployed_warheads": 1474})
    fs = log.run(treaty)
    us, ru = find(fs, "vehicles", "US"), find(fs, "vehicles", "RU")
    assert us.status == "unverified"
    assert "no declaration as of 2022-03-01" in us.explanation
    assert us.evidence == ()
    assert ru.status == "unverified"
    assert "aggregates only" in ru.explanation
    assert [e.index for e in ru.evidence] == [0]


def test_latest_declaration_as_of_the_date_is_the_one_evaluated(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [item("ICBM", 30, deployed=True)], as_of=AT.replace(month=1))
    log.declare("US", [item("ICBM", 5, deployed=True)], as_of=AT)
    log.declare("US", [item("ICBM", 50, deployed=True)], as_of=AT.replace(month=9))  # the future
    assert find(log.run(treaty), "vehicles", "US").value == 5
    assert find(log.run(treaty, AT.replace(month=2)), "vehicles", "US").value == 30
    assert find(log.run(treaty, AT.replace(month=9)), "vehicles", "US").value == 50


# ------------------------------------------------------------------ bans and zones


def test_ban(treaty: Agreement) -> None:
    log = Log()
    log.declare("RU", [item("GLCM", 4, site="inside", range_km=2500, system="X"),
                       item("GLCM", 9, range_km=300)])
    fs = log.run(treaty)
    for reading in ("US", "RU"):
        f = find(fs, "no-intermediate-glcm", "RU", reading)
        assert (f.status, f.value, f.bound) == ("violation", 4, 0)
        assert "which the rule bans" in f.explanation
        assert f.sites == ({"site": "inside", "count": 4},)
    log2 = Log()
    log2.declare("RU", [item("GLCM", 9, range_km=300)])
    f = find(log2.run(treaty), "no-intermediate-glcm", "RU", "RU")
    assert (f.status, f.value) == ("compliant", 0)
    assert "declares nothing matching" in f.explanation


@pytest.mark.parametrize(
    ("site", "sites", "status"),
    [
        ("inside", None, "violation"),
        ("outside", None, "compliant"),
        ("on-border", None, "violation"),  # a site on the border line is in the zone
        ("mystery", None, "unverified"),  # nobody says where it is
        ("mystery", {"mystery": {"id": "mystery", "location": [21.5, 41.0]}}, "violation"),  # declared inside
        ("mystery", {"mystery": {"id": "mystery", "location": [50.0, 41.0]}}, "compliant"),
    ],
)
def test_zone_by_shape(treaty: Agreement, site: str, sites: dict[str, dict[str, object]] | None,
                       status: str) -> None:
    log = Log()
    log.declare("RU", [item("GLCM", 3, site=site, range_km=300)], sites=sites)
    f = find(log.run(treaty), "no-glcm-in-box", "RU")
    assert f.status == status
    assert f.value == (3 if status == "violation" else 0)
    if status == "unverified":
        assert "holdings are at sites with no declared location; the zone cannot be checked" in f.explanation
    if status == "violation":
        assert "in zone box" in f.explanation


def test_zone_by_named_sites(treaty: Agreement) -> None:
    log = Log()
    log.declare("RU", [item("GLCM", 2, site="outside"), item("GLCM", 7, site="inside"),
                       item("ICBM", 5, site="outside")])
    f = find(log.run(treaty), "no-glcm-at-outside", "RU")
    assert (f.status, f.value, f.sites) == ("violation", 2, ({"site": "outside", "count": 2},))
    assert "at outside" in f.explanation


def test_the_owners_declaration_places_its_site(treaty: Agreement) -> None:
    log = Log()
    log.declare("RU", [item("GLCM", 3, site="inside")],
                sites={"inside": {"id": "inside", "location": [50, 41]}})
    f = find(log.run(treaty), "no-glcm-in-box", "RU")
    assert (f.status, f.value) == ("compliant", 0)


def test_a_site_located_only_by_the_other_party_stays_unlocated(treaty: Agreement) -> None:
    """RU cannot make a US holding fall inside a zone by declaring where the US site is."""
    log = Log()
    log.declare("US", [item("GLCM", 3, site="us-base")])
    log.declare("RU", [], sites={"us-base": {"id": "us-base", "location": [25, 45]}})
    f = find(log.run(treaty), "no-glcm-in-box", "US")
    assert f.status == "unverified"


def test_an_item_missing_the_attribute_a_ban_reads_makes_it_unverified(treaty: Agreement) -> None:
    """A GLCM declared without a range cannot slip past a ban on 500–5,500 km: the finding cannot
    tell, says so, and names the item and the attribute it lacks."""
    log = Log()
    log.declare("RU", [item("GLCM", 4, site="x"), item("GLCM", 2, site="y", range_km=480)])
    f = find(log.run(treaty), "no-intermediate-glcm", "RU", "RU")
    assert (f.status, f.value) == ("unverified", 0)
    assert "4 items cannot be decided: they lack range_km the rule reads (GLCM at x (4))" in f.explanation
    assert f.to_json()["details"]["undecided"]["count"] == 4
    # a violation stays a violation, its value a lower bound
    log.declare("RU", [item("GLCM", 4, site="x"), item("GLCM", 2, site="y", range_km=600)])
    f = find(log.run(treaty), "no-intermediate-glcm", "RU", "RU")
    assert (f.status, f.value) == ("violation", 2)
    assert "cannot be decided" in f.explanation


# ------------------------------------------------------------------ interpretations


def test_two_readings_two_findings_per_party_with_the_divergence(treaty: Agreement) -> None:
    log = Log()
    log.declare("US", [
        item("ICBM launcher", 8, site="a"),
        item("ICBM launcher", 1, site="b", status="training"),
        item("heavy bomber", 2, site="c", status="converted"),
        item("heavy bomber", 1, site="d", status="operational"),
    ])
    fs = log.run(treaty)
    mine = [f for f in fs if f.obligation == "launchers"]
    assert sorted((f.party, f.interpretation) for f in mine) == [("RU", "RU"), ("RU", "US"), ("US", "RU"),
                                                                 ("US", "US")]
    us = find(fs, "launchers", "US", "US")
    ru = find(fs, "launchers", "US", "RU")
    assert (us.status, us.value, us.bound) == ("compliant", 9, 10)
    assert (ru.status, ru.value, ru.bound) == ("violation", 12, 10)
    assert ru.explanation.startswith("Under RU's reading, US has 12 items")
    assert "2 over" in ru.explanation
    assert us.reading == "US reading"
    (div,) = ru.to_json()["details"]["divergence"]
    assert (div["versus"], div["this_value"], div["other_value"]) == ("US", 12, 9)
    only = {(g["category"], g["status"], g["site"], g["count"]) for g in div["only_this"]}
    assert only == {("ICBM launcher", "training", "b", 1), ("heavy bomber", "converted", "c", 2)}
    assert div["only_other"] == []
    assert "RU's reading counts 3 more than US's" in ru.explanation
    (back,) = us.to_json()["details"]["divergence"]
    assert (back["this_value"], back["other_value"], back["only_this"]) == (9, 12, [])
    assert {g["site"] for g in back["only_other"]} == {"b", "c"}
    # RU holds nothing: both readings agree on zero, and there is no divergence to report
    for reading in ("US", "RU"):
        f = find(fs, "launchers", "RU", reading)
        assert f.status == "unverified"  # RU has no declaration


def test_assumptions_change_what_a_reading_counts(treaty: Agreement) -> None:
    """The 9M729 as each side reads it: 480 km declared; the US reading assumes 500 km."""
    log = Log()
    log.declare("RU", [item("GLCM", 4, site="kamyshlov", system="9M729", range_km=480),
                       item("GLCM", 12, site="kaliningrad", system="9M728", range_km=480)])
    fs = log.run(treaty)
    us = find(fs, "no-intermediate-glcm", "RU", "US")
    ru = find(fs, "no-intermediate-glcm", "RU", "RU")
    assert (us.status, us.value) == ("violation", 4)
    assert (ru.status, ru.value) == ("compliant", 0)
    assumed = us.to_json()["details"]["assumptions"]
    assert assumed == [{"where": 'system == "9M729"', "set": {"range_km": 500}}]
    (div,) = us.to_json()["details"]["divergence"]
    assert [(g["system"], g["count"]) for g in div["only_this"]] == [("9M729", 4)]
    assert [g["range_km"] for g in div["only_this"]] == [500]  # as the reading assumes it


def test_new_start_launcher_dispute_2022() -> None:
    """New START Article II.1(c) at 1 March 2022 on a small table: 800 under the US reading,
    901 under Russia's: the 56 converted Trident II tubes, 41 converted B-52H and 4 training silos."""
    ag = load_agreement(SCENARIO / "agreements/new-start.yaml")
    log = Log()
    log.declare("US", [
        item("ICBM launcher", 400, site="malmstrom", deployed=True),
        item("ICBM launcher", 54, site="malmstrom", deployed=False),
        item("SLBM launcher", 280, site="kings-bay"),
        item("heavy bomber", 66, site="minot"),
        item("SLBM launcher", 56, site="kings-bay", status="converted"),
        item("heavy bomber", 41, site="davis-monthan", status="converted"),
        item("ICBM launcher", 4, site="vandenberg", status="training"),
    ])
    fs = log.run(ag)
    us = find(fs, "launchers", "US", "US")
    ru = find(fs, "launchers", "US", "RU")
    assert (us.status, us.value, us.bound) == ("compliant", 800, 800)
    assert (ru.status, ru.value, ru.bound) == ("violation", 901, 800)
    assert ": 101 over." in ru.explanation
    assert ru.legal is not None
    assert "Article XIV(3)" in ru.legal
    (div,) = ru.to_json()["details"]["divergence"]
    disputed = sorted((g["category"], g["status"], g["count"]) for g in div["only_this"])
    assert disputed == [("ICBM launcher", "training", 4), ("SLBM launcher", "converted", 56),
                        ("heavy bomber", "converted", 41)]
    assert sum(c for *_, c in disputed) == 101
    assert "RU's reading counts 101 more than US's" in ru.explanation


def test_declaring_nothing_is_compliant_with_every_limit_and_ban(treaty: Agreement) -> None:
    """A party that eliminated everything declares zero: compliant, not 'aggregates only'."""
    log = Log()
    log.declare("RU", [])
    fs = [f for f in log.run(treaty) if f.party == "RU"]
    counted = [f for f in fs if f.kind in ("limit", "ban", "zone")]
    assert counted
    for f in counted:
        assert (f.status, f.value) == ("compliant", 0), (f.obligation, f.explanation)
        assert "aggregates only" not in f.explanation


ZONED = TREATY.split("obligations:")[0] + """obligations:
  - id: glcm-in-box
    kind: limit
    clause: "flank (zone limit)"
    parties: [RU]
    select: 'category == "GLCM"'
    zone: box
    max: 10
  - id: no-glcm-outside
    kind: ban
    clause: "site ban"
    parties: [RU]
    select: 'category == "GLCM"'
    sites: [outside]
"""


def test_limits_and_bans_over_a_zone_or_sites(tmp_path: Path) -> None:
    """A zone limit counts every declared site located inside the zone (the CFE flank rule):
    no hand-kept list of sites to leave one off; a ban can apply at named sites only."""
    ag = agreement(tmp_path, ZONED)
    log = Log()
    log.declare("RU", [item("GLCM", 8, site="inside"), item("GLCM", 4, site="on-border"),
                       item("GLCM", 50, site="outside")],
                sites={"inside": {"location": [25, 45]}, "outside": {"location": [35, 45]},
                       "on-border": {"location": [30, 45]}})
    fs = log.run(ag)
    lim, ban = find(fs, "glcm-in-box", "RU"), find(fs, "no-glcm-outside", "RU")
    assert (lim.status, lim.value, lim.bound) == ("violation", 12, 10)  # the border site counts
    assert {s["site"] for s in lim.sites} == {"inside", "on-border"}
    assert (ban.status, ban.value) == ("violation", 50)
    assert {s["site"] for s in ban.sites} == {"outside"}


def test_a_limit_names_a_zone_or_sites_not_both(tmp_path: Path) -> None:
    text = ZONED.replace("    zone: box\n", "    zone: box\n    sites: [inside]\n")
    with pytest.raises(AgreementError, match="not both"):
        agreement(tmp_path, text)
    with pytest.raises(AgreementError, match="undefined zone 'bx'"):
        agreement(tmp_path, ZONED.replace("zone: box", "zone: bx"))
