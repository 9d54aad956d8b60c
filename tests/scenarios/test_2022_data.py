"""The shipped 2022 scenario data holds together: sites, declared holdings, aggregates, sources.

The declarations are partly ours (site-level splits are illustrative), so the only thing that
keeps them honest is that they reproduce, exactly, what the parties published — 686 / 1,515 / 800
and 526 / 1,474 / 761 as of 1 March 2022 — under the U.S. reading of New START, and 901 U.S.
launchers under Russia's. These tests pin that arithmetic, the fixed vocabulary the agreements
count over, that every site and holding names a public source defined in SOURCES.md, and that
every site lies in the country said to host it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from shapely.geometry import Point

from detente import geo
from detente.agreement.loader import load_agreement
from detente.scenarios import agreement_files, declaration_bodies

ROOT = Path(str(resources.files("detente") / "scenarios" / "2022"))
PARTIES = ("US", "RU")
AS_OF = "2022-03-01"

# --------------------------------------------------------------------------- the fixed vocabulary
# Category -> attribute -> allowed values (a set), or a type the value must have. This is the
# subset of vocabulary.yaml the declarations may use; test_vocabulary_is_the_agreements_own
# checks it does not drift from the file the agreements include.
BOOL, INT, NUMBER, STR, CATEGORIES = "bool", "int", "number", "str", "categories"
VOCABULARY: dict[str, dict[str, Any]] = {
    "ICBM": {"deployed": BOOL, "warheads": INT, "system": STR, "basing": {"silo", "mobile"}},
    "SLBM": {"deployed": BOOL, "warheads": INT, "system": STR},
    "ICBM launcher": {
        "deployed": BOOL,
        "status": {"operational", "training", "test", "converted", "eliminated"},
        "basing": {"silo", "mobile"},
    },
    "SLBM launcher": {"deployed": BOOL, "status": {"operational", "converted"}, "system": STR},
    "heavy bomber": {"deployed": BOOL, "status": {"nuclear", "converted", "test"}, "system": STR},
    "GLCM": {"system": STR, "range_km": NUMBER, "nuclear_capable": BOOL, "deployed": BOOL},
    "GLBM": {"system": STR, "range_km": NUMBER, "nuclear_capable": BOOL, "deployed": BOOL},
    "GLCM launcher": {"system": STR, "can_launch": CATEGORIES},
    "GLBM launcher": {"system": STR, "can_launch": CATEGORIES},
    "MK 41 launcher": {"cells": INT},
    "SM-3": {"system": {"SM-3 Block IB", "SM-3 Block IIA"}, "deployed": BOOL},
}
# Attributes a holding of the category must carry, so the counting rules can read them.
REQUIRED: dict[str, set[str]] = {
    "ICBM": {"deployed", "warheads", "system", "basing"},
    "SLBM": {"deployed", "warheads", "system"},
    "ICBM launcher": {"deployed", "status", "basing"},
    "SLBM launcher": {"deployed", "status", "system"},
    "heavy bomber": {"deployed", "status", "system"},
    "GLCM": {"system", "range_km", "nuclear_capable", "deployed"},
    "GLBM": {"system", "range_km", "nuclear_capable", "deployed"},
    "GLCM launcher": {"system"},
    "GLBM launcher": {"system"},
    "MK 41 launcher": {"cells"},
    "SM-3": {"system", "deployed"},
}
SITE_KINDS = {
    "icbm-base", "slbm-base", "bomber-base", "aegis-ashore", "missile-brigade", "storage",
    "test-site", "training", "production", "conversion",
}
HOLDING_KEYS = {"site", "category", "count", "attributes", "illustrative", "source"}
DELIVERY = ("ICBM", "SLBM", "heavy bomber")
LAUNCHERS = ("ICBM launcher", "SLBM launcher", "heavy bomber")
EXCLUDED_BY_US = {"converted", "training"}

# Rough bounding boxes (lon_min, lat_min, lon_max, lat_max) of the hosts, as a second opinion
# on the shipped border shapes: the contiguous United States, Romania, Poland, and Russia (which
# crosses the antimeridian; every site here is east of Kaliningrad and west of 180°).
BBOX = {
    "US": (-125.0, 24.0, -66.0, 50.0),
    "RO": (20.2, 43.6, 29.8, 48.3),
    "PL": (14.1, 49.0, 24.2, 54.9),
    "RU": (19.6, 41.1, 180.0, 82.0),
}
SHAPE = {"US": "united-states", "RO": "romania", "PL": "poland", "RU": "russia"}

# The only holdings given as public at site level (not illustrative): Deveselu's three MK 41
# modules, derived from its published 24 interceptor cells. Anything else must say illustrative.
NOT_ILLUSTRATIVE = {("US", "deveselu", "MK 41 launcher")}

SOURCE_KEY = re.compile(r"\b[A-Z][A-Za-z]*(?:-[A-Za-z0-9]+)+\b")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sites() -> list[dict[str, Any]]:
    return list(_load(ROOT / "sites.yaml")["sites"])


@pytest.fixture(scope="module")
def site_by_id(sites: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in sites}


@pytest.fixture(scope="module")
def decls() -> dict[str, dict[str, Any]]:
    return {p: _load(ROOT / "declarations" / f"{p}-{AS_OF}.yaml") for p in PARTIES}


@pytest.fixture(scope="module")
def source_keys() -> set[str]:
    """Keys defined in SOURCES.md: the first cell of each table row."""
    text = (ROOT / "SOURCES.md").read_text(encoding="utf-8")
    keys = {m.group(1) for m in re.finditer(r"^\| ([A-Za-z][A-Za-z0-9-]*) \|", text, re.MULTILINE)}
    return keys - {"key"}


# --------------------------------------------------------------------------- counting, both readings
def _sum(holdings: Iterable[Mapping[str, Any]]) -> int:
    return sum(int(h["count"]) for h in holdings)


def deployed_delivery_vehicles(holdings: Sequence[Mapping[str, Any]]) -> int:
    """Article II.1(a): deployed ICBMs, deployed SLBMs and deployed heavy bombers."""
    return _sum(h for h in holdings if h["category"] in DELIVERY and h["attributes"]["deployed"] is True)


def deployed_warheads(holdings: Sequence[Mapping[str, Any]]) -> int:
    """Article II.1(b) with III.2(c): missile warheads as loaded, one per deployed heavy bomber."""
    total = 0
    for h in holdings:
        if h["category"] not in DELIVERY or h["attributes"]["deployed"] is not True:
            continue
        per = 1 if h["category"] == "heavy bomber" else int(h["attributes"]["warheads"])
        total += int(h["count"]) * per
    return total


def launchers(holdings: Sequence[Mapping[str, Any]], reading: str) -> int:
    """Article II.1(c). The U.S. reading leaves out converted items and training silos; Russia's
    counts everything the United States lists."""
    rows = [h for h in holdings if h["category"] in LAUNCHERS]
    if reading == "US":
        rows = [h for h in rows if h["attributes"].get("status") not in EXCLUDED_BY_US]
    return _sum(rows)


# --------------------------------------------------------------------------- sites
def test_site_ids_are_unique_and_well_formed(sites: list[dict[str, Any]]) -> None:
    ids = [s["id"] for s in sites]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate site ids: {dupes}"
    for i in ids:
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", i), f"site id {i!r} is not lower-case-hyphenated"


def test_every_site_is_complete_and_sourced(sites: list[dict[str, Any]]) -> None:
    for s in sites:
        sid = s["id"]
        assert set(s) == {"id", "name", "owner", "host", "kind", "location", "source"}, sid
        assert s["owner"] in PARTIES, sid
        assert re.fullmatch(r"[A-Z]{2}", s["host"]), sid
        assert s["kind"] in SITE_KINDS, f"{sid}: kind {s['kind']!r}"
        assert isinstance(s["name"], str), sid
        assert s["name"].strip(), sid
        urls = [s["source"]] if isinstance(s["source"], str) else s["source"]
        assert urls, f"{sid} has no source"
        for u in urls:
            assert isinstance(u, str), sid
            assert re.match(r"https?://\S+$", u), f"{sid}: source {u!r} is not a URL"


def test_coordinates_are_on_earth_and_in_the_host_country(sites: list[dict[str, Any]]) -> None:
    ukraine = geo.load_builtin("ukraine")
    for s in sites:
        sid, host = s["id"], s["host"]
        lon, lat = s["location"]
        assert isinstance(lon, int | float), sid
        assert isinstance(lat, int | float), sid
        assert -180 <= lon <= 180, f"{sid}: {s['location']} is not [lon, lat]"
        assert -90 <= lat <= 90, f"{sid}: {s['location']} is not [lon, lat]"
        assert host in BBOX, f"{sid}: no bounding box for host {host}; add one"
        x0, y0, x1, y1 = BBOX[host]
        outside = f"{sid}: {s['location']} outside {host}'s box (lat/lon swapped?)"
        assert x0 <= lon <= x1, outside
        assert y0 <= lat <= y1, outside
        border = geo.load_builtin(SHAPE[host])
        assert border.distance(Point(lon, lat)) <= 0.05, f"{sid}: {s['location']} is not in {host}"
        assert not ukraine.intersects(Point(lon, lat)), f"{sid} lies in Ukraine"


def test_named_sites_of_the_brief_are_present(site_by_id: Mapping[str, Mapping[str, Any]]) -> None:
    wanted = {
        "US": {"deveselu", "redzikowo", "malmstrom-afb", "minot-afb", "fe-warren-afb", "vandenberg-sfb",
               "kings-bay", "kitsap-bangor", "barksdale-afb", "whiteman-afb", "davis-monthan-afb"},
        "RU": {"kozelsk", "tatishchevo", "dombarovsky", "uzhur", "yoshkar-ola", "novosibirsk", "barnaul",
               "irkutsk", "nizhny-tagil", "teykovo", "vypolzovo", "gadzhiyevo", "vilyuchinsk", "engels",
               "ukrainka", "kamyshlov", "mozdok", "shuya", "chernyakhovsk", "kapustin-yar"},
    }
    for party, ids in wanted.items():
        missing = ids - set(site_by_id)
        assert not missing, f"{party} sites missing: {sorted(missing)}"
        assert all(site_by_id[i]["owner"] == party for i in ids)
    assert site_by_id["deveselu"]["host"] == "RO"
    assert site_by_id["redzikowo"]["host"] == "PL"
    assert {site_by_id[i]["kind"] for i in ("deveselu", "redzikowo")} == {"aegis-ashore"}


# --------------------------------------------------------------------------- vocabulary
def test_vocabulary_is_the_agreements_own() -> None:
    """Every category and attribute used here exists in the vocabulary.yaml the agreements include,
    with the same enum values, so a holding is never silently invisible to a rule."""
    voc = _load(ROOT / "vocabulary.yaml")["definitions"]
    for cat, attrs in VOCABULARY.items():
        assert cat in voc["categories"], cat
        declared = set(voc["categories"][cat]["attributes"])
        assert set(attrs) <= declared, f"{cat}: {set(attrs) - declared} not in vocabulary.yaml"
        for name, allowed in attrs.items():
            spec = voc["attributes"][name]
            if isinstance(allowed, set):
                if spec["type"] == "enum":
                    assert allowed <= set(spec["values"]), f"{cat}.{name}"
                else:
                    assert spec["type"] == "string", f"{cat}.{name}"


def _check_value(where: str, name: str, value: Any, allowed: Any) -> None:
    if allowed == BOOL:
        assert type(value) is bool, f"{where}: {name} must be true/false, got {value!r}"
    elif allowed == INT:
        assert type(value) is int, f"{where}: {name} must be an integer, got {value!r}"
        assert value > 0, f"{where}: {name} must be positive, got {value!r}"
    elif allowed == NUMBER:
        assert type(value) in (int, float), f"{where}: {name} must be a number"
        assert value > 0, f"{where}: {name} must be positive"
    elif allowed == STR:
        assert isinstance(value, str), f"{where}: {name} must be a string"
        assert value.strip(), f"{where}: {name} must not be empty"
    elif allowed == CATEGORIES:
        assert isinstance(value, list), f"{where}: {name} must be a list"
        assert value, f"{where}: {name} must not be empty"
        known = set(VOCABULARY) | {"Tomahawk"}
        assert set(value) <= known, f"{where}: {name} names unknown categories {value}"
    else:
        assert value in allowed, f"{where}: {name}={value!r}, expected one of {sorted(allowed)}"


@pytest.mark.parametrize("party", PARTIES)
def test_holdings_use_the_vocabulary_at_own_sites(
    party: str, decls: Mapping[str, Mapping[str, Any]], site_by_id: Mapping[str, Mapping[str, Any]]
) -> None:
    d = decls[party]
    assert d["party"] == party
    assert str(d["as_of"]) == AS_OF
    assert isinstance(d["source"], str)
    assert d["source"].startswith("http")
    for i, h in enumerate(d["holdings"]):
        where = f"{party} holding {i} ({h.get('site')}, {h.get('category')})"
        assert set(h) <= HOLDING_KEYS, f"{where}: unknown keys {set(h) - HOLDING_KEYS}"
        assert h["site"] in site_by_id, f"{where}: no such site in sites.yaml"
        assert site_by_id[h["site"]]["owner"] == party, f"{where}: site belongs to another party"
        assert h["category"] in VOCABULARY, f"{where}: unknown category"
        assert type(h["count"]) is int, f"{where}: count must be an integer"
        assert h["count"] > 0, f"{where}: count must be positive"
        attrs = h["attributes"]
        allowed = VOCABULARY[h["category"]]
        extra = set(attrs) - set(allowed)
        assert not extra, f"{where}: attributes {extra} not in vocabulary"
        missing = REQUIRED[h["category"]] - set(attrs)
        assert not missing, f"{where}: missing {missing}"
        for name, value in attrs.items():
            _check_value(where, name, value, allowed[name])
        if "illustrative" in h:
            assert type(h["illustrative"]) is bool, where


# --------------------------------------------------------------------------- sources
@pytest.mark.parametrize("party", PARTIES)
def test_every_holding_cites_defined_sources(
    party: str, decls: Mapping[str, Mapping[str, Any]], source_keys: set[str]
) -> None:
    for i, h in enumerate(decls[party]["holdings"]):
        keys = h.get("source")
        where = f"{party} holding {i} ({h['site']}, {h['category']})"
        assert isinstance(keys, list), f"{where}: source is not a list"
        assert keys, f"{where} has no source"
        unknown = set(keys) - source_keys
        assert not unknown, f"{party} holding {i}: {sorted(unknown)} not defined in SOURCES.md"


def test_source_keys_in_comments_are_defined(source_keys: set[str]) -> None:
    """A bracketed key in any comment, e.g. "[ACA-2014; ExMon-2017]", must be in SOURCES.md."""
    files = [ROOT / "sites.yaml", *sorted((ROOT / "declarations").glob("*.yaml"))]
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "#" not in line:
                continue
            comment = line[line.index("#"):]
            for group in re.findall(r"\[([^\]]+)\]", comment):
                for key in SOURCE_KEY.findall(group):
                    assert key in source_keys, f"{path.name}:{n}: [{key}] is not defined in SOURCES.md"


def test_site_level_figures_are_labelled_illustrative(decls: Mapping[str, Mapping[str, Any]]) -> None:
    """Only aggregates are public for 1 March 2022: any holding not marked illustrative must be one
    whose site-level figure is itself public, and listed here with its reason."""
    public = {
        (p, h["site"], h["category"])
        for p in PARTIES
        for h in decls[p]["holdings"]
        if h.get("illustrative") is not True
    }
    assert public == NOT_ILLUSTRATIVE


# --------------------------------------------------------------------------- the published aggregates
PUBLISHED = {
    "US": {"deployed_delivery_vehicles": 686, "deployed_warheads": 1515, "launchers": 800},
    "RU": {"deployed_delivery_vehicles": 526, "deployed_warheads": 1474, "launchers": 761},
}


@pytest.mark.parametrize("party", PARTIES)
def test_aggregates_are_as_published(party: str, decls: Mapping[str, Mapping[str, Any]]) -> None:
    assert decls[party]["aggregates"] == PUBLISHED[party]


@pytest.mark.parametrize("party", PARTIES)
def test_holdings_reproduce_the_aggregates_under_the_us_reading(
    party: str, decls: Mapping[str, Mapping[str, Any]]
) -> None:
    h = decls[party]["holdings"]
    agg = decls[party]["aggregates"]
    assert deployed_delivery_vehicles(h) == agg["deployed_delivery_vehicles"]
    assert deployed_warheads(h) == agg["deployed_warheads"]
    assert launchers(h, "US") == agg["launchers"]
    assert deployed_delivery_vehicles(h) <= 700
    assert deployed_warheads(h) <= 1550


def test_russias_reading_puts_the_united_states_at_901(decls: Mapping[str, Mapping[str, Any]]) -> None:
    h = decls["US"]["holdings"]
    assert launchers(h, "RU") == 901
    assert launchers(h, "RU") - launchers(h, "US") == 101
    disputed = Counter()
    for x in h:
        status = x["attributes"].get("status")
        if x["category"] in LAUNCHERS and status in EXCLUDED_BY_US:
            disputed[(x["category"], status, x["attributes"].get("system"))] += x["count"]
    assert disputed == {
        ("SLBM launcher", "converted", "Ohio-class tube"): 56,   # 4 tubes on each of 14 SSBNs
        ("heavy bomber", "converted", "B-52H"): 41,
        ("ICBM launcher", "training", None): 4,
    }
    # Nothing disputed is deployed, and Russia declares nothing converted or in training.
    assert all(not x["attributes"]["deployed"] for x in h if x["attributes"].get("status") in EXCLUDED_BY_US)
    assert launchers(decls["RU"]["holdings"], "RU") == launchers(decls["RU"]["holdings"], "US") == 761


def test_us_holdings_keep_the_published_structure(decls: Mapping[str, Mapping[str, Any]]) -> None:
    """The U.S. split follows the last published breakdown by type (1 Sep 2020): 454 ICBM launchers
    of which 4 test, 280 SLBM launchers, 20 B-2A and 46 B-52H counted of which 5 test, 41 B-52H
    non-nuclear; and the breakdown itself adds up to its own aggregates."""
    d = decls["US"]
    b = d["public_breakdown"]
    assert b["ICBM"]["deployed"] + b["SLBM"]["deployed"] + sum(
        v["deployed"] for v in b["heavy bomber"].values()
    ) == b["aggregates"]["deployed_delivery_vehicles"]
    icbm_l = b["ICBM launcher"]["deployed"] + b["ICBM launcher"]["non_deployed"]
    slbm_l = b["SLBM launcher"]["deployed"] + b["SLBM launcher"]["non_deployed"]
    bombers = sum(v["deployed"] + v["non_deployed"] for v in b["heavy bomber"].values())
    assert icbm_l + slbm_l + bombers == b["aggregates"]["launchers"]

    h = d["holdings"]

    def count(cat: str, **attrs: Any) -> int:
        rows = (x for x in h if x["category"] == cat)
        return _sum(x for x in rows if all(x["attributes"].get(k) == v for k, v in attrs.items()))

    assert count("ICBM launcher") - count("ICBM launcher", status="training") == icbm_l
    assert count("ICBM launcher", status="test") == b["ICBM launcher"]["test"]
    assert count("SLBM launcher", status="operational") == slbm_l
    for system, row in b["heavy bomber"].items():
        converted = count("heavy bomber", system=system, status="converted")
        counted = count("heavy bomber", system=system) - converted
        assert counted == row["deployed"] + row["non_deployed"], system
        assert count("heavy bomber", system=system, status="test") == row["test"], system
        assert converted == row["non_nuclear"], system


def _deployed_at(holdings: Sequence[Mapping[str, Any]], category: str, site: str) -> int:
    return _sum(
        x for x in holdings
        if x["category"] == category and x["site"] == site and x["attributes"]["deployed"] is True
    )


@pytest.mark.parametrize("party", PARTIES)
def test_deployed_missiles_sit_in_deployed_launchers(
    party: str, decls: Mapping[str, Mapping[str, Any]]
) -> None:
    """New START's definition: a deployed ICBM or SLBM is one in a deployed launcher, so at every
    site the two counts agree."""
    h = decls[party]["holdings"]
    for cat, lcat in (("ICBM", "ICBM launcher"), ("SLBM", "SLBM launcher")):
        for site in {x["site"] for x in h if x["category"] in (cat, lcat)}:
            missiles, tubes = _deployed_at(h, cat, site), _deployed_at(h, lcat, site)
            assert missiles == tubes, f"{party} {site}: {missiles} deployed {cat}s, {tubes} launchers"


# --------------------------------------------------------------------------- outside New START
def test_aegis_ashore_holds_interceptors_not_tomahawks(decls: Mapping[str, Mapping[str, Any]]) -> None:
    h = decls["US"]["holdings"]
    assert not [x for x in h if x["category"] == "Tomahawk"]
    mk41 = {x["site"]: x for x in h if x["category"] == "MK 41 launcher"}
    assert set(mk41) == {"deveselu", "redzikowo"}
    assert all(x["attributes"]["cells"] == 8 for x in mk41.values())
    sm3 = [x for x in h if x["category"] == "SM-3"]
    assert {x["site"] for x in sm3} <= set(mk41)
    for site, launcher in mk41.items():
        loaded = _sum(x for x in sm3 if x["site"] == site)
        assert loaded <= launcher["count"] * launcher["attributes"]["cells"], site
    # Deveselu: 24 interceptors in 3 modules of 8 cells.
    assert mk41["deveselu"]["count"] == 3
    assert _sum(x for x in sm3 if x["site"] == "deveselu") == 24


def test_9m729_as_reported_and_as_russia_declares(decls: Mapping[str, Mapping[str, Any]]) -> None:
    h = decls["RU"]["holdings"]
    missiles = [x for x in h if x["category"] == "GLCM" and x["attributes"]["system"] == "9M729"]
    assert {x["site"] for x in missiles} == {"kamyshlov", "mozdok", "shuya", "kapustin-yar"}
    assert all(x["attributes"]["range_km"] == 480 for x in missiles)   # Russia's declared range
    assert all(x["count"] == 16 for x in missiles)                      # 4 launchers x 4 missiles
    assert _sum(missiles) == 64
    glcm_launchers = {x["site"]: x["count"] for x in h if x["category"] == "GLCM launcher"}
    assert glcm_launchers == dict.fromkeys(("kamyshlov", "mozdok", "shuya", "kapustin-yar"), 4)
    # Every ground-launched missile Russia declares is below the INF band on Russia's reading.
    ground = [x for x in h if x["category"] in ("GLCM", "GLBM")]
    assert ground
    assert all(x["attributes"]["range_km"] < 500 for x in ground)
    assert any(x["site"] == "chernyakhovsk" and x["category"] == "GLBM" for x in ground)


# --------------------------------------------------------------------------- the consumers accept it
def test_the_agreements_load_with_these_sites() -> None:
    files = agreement_files("2022")
    assert files
    for f in files:
        agreement = load_agreement(f)
        assert {"deveselu", "kamyshlov"} <= set(agreement.sites)


def test_declaration_bodies_carry_every_holding(decls: Mapping[str, Mapping[str, Any]]) -> None:
    bodies = dict(declaration_bodies("2022"))
    for party in PARTIES:
        body = bodies[party]
        assert body["as_of"] == AS_OF
        assert len(body["holdings"]) == len(decls[party]["holdings"])
        assert body["aggregates"] == PUBLISHED[party]
        assert {s["id"] for s in body["sites"]} == {h["site"] for h in decls[party]["holdings"]}
