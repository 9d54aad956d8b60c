"""Zones: the shipped border shapes put known places on the right side, user GeoJSON is checked
(never repaired), and point tests count the boundary as inside."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from detente import geo
from detente.errors import ConfigError

# (lon, lat): GeoJSON order.
KYIV = (30.52, 50.45)
SEVASTOPOL = (33.52, 44.60)
DEVESELU = (24.41, 44.08)  # Aegis Ashore, Romania
REDZIKOWO = (17.10, 54.48)  # Aegis Ashore, Poland
MOSCOW = (37.62, 55.75)
WASHINGTON = (-77.04, 38.90)
KALININGRAD = (20.51, 54.71)
YEKATERINBURG = (60.61, 56.84)  # just east of the Urals: Asia
PERM = (56.25, 58.01)  # west of the Urals
CHUKOTKA_WEST_OF_DATELINE = (-175.0, 66.0)  # Russia, across the antimeridian
ISTANBUL = (28.95, 41.03)  # European side, Fatih (the Bosporus is water at 1:50m)
ANKARA = (32.85, 39.93)
DIYARBAKIR = (40.22, 37.91)  # Turkey outside the CFE area
NICOSIA_NORTH = (33.36, 35.19)
MARIEHAMN = (19.94, 60.10)  # Åland
CAYENNE = (-52.33, 4.93)  # French Guiana: France, not Europe


def inside(name: str, point: tuple[float, float]) -> bool:
    return bool(geo.contains_points(geo.load_builtin(name), [point[0]], [point[1]])[0])


@pytest.mark.parametrize(("shape", "point", "expected"), [
    ("ukraine", KYIV, True),
    ("ukraine", SEVASTOPOL, True),  # internationally recognised borders
    ("ukraine", MOSCOW, False),
    ("ukraine-without-crimea", SEVASTOPOL, False),
    ("ukraine-without-crimea", KYIV, True),
    ("crimea", SEVASTOPOL, True),
    ("russia", SEVASTOPOL, False),
    ("russia-with-crimea", SEVASTOPOL, True),
    ("russia", MOSCOW, True),
    ("russia", KALININGRAD, True),
    ("russia", CHUKOTKA_WEST_OF_DATELINE, True),
    ("romania", DEVESELU, True),
    ("europe", DEVESELU, True),
    ("poland", REDZIKOWO, True),
    ("europe", REDZIKOWO, True),
    ("romania", REDZIKOWO, False),
    ("europe", MOSCOW, False),
    ("europe", WASHINGTON, False),
    ("united-states", WASHINGTON, True),
    ("europe", SEVASTOPOL, True),
    ("europe", NICOSIA_NORTH, True),
    ("cyprus", NICOSIA_NORTH, True),
    ("finland", MARIEHAMN, True),
    ("france", CAYENNE, True),
    ("europe", CAYENNE, False),
    ("atlantic-to-urals", MOSCOW, True),
    ("atlantic-to-urals", PERM, True),
    ("atlantic-to-urals", KALININGRAD, True),
    ("atlantic-to-urals", YEKATERINBURG, False),
    ("atlantic-to-urals", ISTANBUL, True),
    ("atlantic-to-urals", ANKARA, True),
    ("europe", ISTANBUL, False),
    ("atlantic-to-urals", DIYARBAKIR, False),
    ("atlantic-to-urals", WASHINGTON, False),
    ("belarus", MOSCOW, False),
])
def test_known_places(shape: str, point: tuple[float, float], expected: bool) -> None:
    assert inside(shape, point) is expected


def test_the_scenario_zones_and_parties_are_shipped() -> None:
    names = geo.builtin_shape_names()
    assert names == sorted(names)
    for n in ("europe", "atlantic-to-urals", "ukraine", "romania", "poland", "russia", "belarus",
              "united-states", "crimea", "ukraine-without-crimea", "russia-with-crimea"):
        assert n in names


def test_every_shipped_file_is_one_valid_feature_with_provenance() -> None:
    root = resources.files("detente.geo.shapes")
    assert root.joinpath("CREDITS.md").is_file()
    for name in geo.builtin_shape_names():
        doc = json.loads(root.joinpath(f"{name}.geojson").read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection"
        [feature] = doc["features"]
        assert set(feature["properties"]) == {"id", "name", "source"}
        assert "Natural Earth" in feature["properties"]["source"]
        g = geo.load_builtin(name)
        assert g.is_valid
        assert g.geom_type in ("Polygon", "MultiPolygon")
        assert g.area > 0


def test_crimea_is_moved_not_duplicated() -> None:
    ua, ua_nc = geo.load_builtin("ukraine"), geo.load_builtin("ukraine-without-crimea")
    ru, ru_c = geo.load_builtin("russia"), geo.load_builtin("russia-with-crimea")
    crimea = geo.load_builtin("crimea")
    assert ua.area == pytest.approx(ua_nc.area + crimea.area, rel=1e-9)
    assert ru_c.area == pytest.approx(ru.area + crimea.area, rel=1e-9)
    assert ua.intersection(ru).area == pytest.approx(0, abs=1e-9)  # they only share a border


def test_europe_covers_its_members_and_excludes_russia() -> None:
    europe = geo.load_builtin("europe")
    for member in ("ukraine", "poland", "romania", "germany", "united-kingdom", "belarus", "cyprus"):
        m = geo.load_builtin(member)
        assert m.difference(europe).area < 1e-9 * max(m.area, 1), member
    assert europe.intersection(geo.load_builtin("russia")).area < 1e-9
    assert geo.load_builtin("atlantic-to-urals").covers(europe)


def test_builtins_are_cached() -> None:
    assert geo.load_builtin("ukraine") is geo.load_builtin("ukraine")


def test_unknown_builtin_suggests_the_nearest_and_lists_the_known() -> None:
    with pytest.raises(ConfigError) as err:
        geo.load_builtin("ukriane")
    assert err.value.code == "config"
    assert "did you mean 'ukraine'?" in err.value.message
    assert "europe" in err.value.message
    assert "romania" in err.value.message


def test_unknown_builtin_with_nothing_close_still_lists_the_known() -> None:
    with pytest.raises(ConfigError, match=r"Known shapes: .*atlantic-to-urals") as err:
        geo.load_builtin("zzzz")
    assert "did you mean" not in err.value.message


# ----------------------------------------------------------------------------------- user GeoJSON


def square(x0: float = 0.0, y0: float = 0.0, size: float = 1.0) -> list[list[float]]:
    return [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]


def poly(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def feature(geometry: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {}, "geometry": geometry}


def test_geometry_feature_and_collection_load() -> None:
    assert geo.load_geojson(poly(square())).area == pytest.approx(1)
    assert geo.load_geojson(feature(poly(square()))).area == pytest.approx(1)
    both = {"type": "FeatureCollection", "features": [feature(poly(square())), feature(poly(square(5, 5)))]}
    assert geo.load_geojson(both).area == pytest.approx(2)
    overlapping = {"type": "FeatureCollection",
                   "features": [feature(poly(square())), feature(poly(square(0.5, 0, 1)))]}
    assert geo.load_geojson(overlapping).area == pytest.approx(1.5)  # union, not a sum
    multi = {"type": "MultiPolygon", "coordinates": [[square()], [square(3, 3)]]}
    assert geo.load_geojson(multi).area == pytest.approx(2)
    with_hole = poly(square(0, 0, 4), square(1, 1, 1))
    assert geo.load_geojson(with_hole).area == pytest.approx(15)


def test_file_path_loads(tmp_path: Path) -> None:
    p = tmp_path / "zone.geojson"
    p.write_text(json.dumps(feature(poly(square(20, 40, 2)))), encoding="utf-8")
    assert geo.load_geojson(p).area == pytest.approx(4)
    assert geo.load_geojson(str(p)).area == pytest.approx(4)


@pytest.mark.parametrize(("doc", "message"), [
    (poly([[0, 0], [1, 0], [1, 1], [0, 1]]), r"coordinates\[0\]: ring is not closed"),
    (poly([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.5]]), "ring is not closed"),
    (poly([[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]), "self-intersection at longitude 0.5, latitude 0.5"),
    (poly([[0, 0], [1, 0], [0, 0]]), "a closed ring needs at least 4"),
    (poly([[0, 0], [200, 0], [200, 1], [0, 0]]), r"longitude 200 is outside \[-180, 180\]"),
    (poly([[0, 0], [1, 0], [1, 95], [0, 0]]), r"latitude 95 is outside \[-90, 90\]"),
    (poly([[0, 0], [1, 0], [1, float("nan")], [0, 0]]), "latitude nan is outside"),
    (poly([[0, 0], [1, 0], [1, True], [0, 0]]), r"a position is \[longitude, latitude\]"),
    (poly([[0, 0], ["1", 0], [1, 1], [0, 0]]), r"a position is \[longitude, latitude\]"),
    (poly([[170, 0], [-170, 0], [-170, 5], [170, 5], [170, 0]]), "split the polygon at the antimeridian"),
    (poly(square(0, 0, 4), square(10, 10, 1)), "not a valid area: hole lies outside shell"),
    ({"type": "MultiPolygon", "coordinates": [[square()], [square(0.5, 0.5)]]}, "not a valid area"),
    ({"type": "Point", "coordinates": [0, 0]}, "a zone must be an area: Polygon or MultiPolygon"),
    ({"type": "Polygon", "coordinates": []}, "has no rings"),
    ({"type": "Polygon", "coordinates": "0,0,1,1"}, "must be a list of rings"),
    ({"type": "MultiPolygon", "coordinates": []}, "is empty"),
    ({"type": "FeatureCollection", "features": []}, "non-empty 'features'"),
    ({"type": "FeatureCollection", "features": [feature(poly(square())), {"type": "Polygon"}]},
     r"features\[1\] is not a GeoJSON Feature"),
    (feature(None), "geometry is missing"),
    ([1, 2], "expected a GeoJSON object"),
])
def test_invalid_geojson_is_refused_with_what_and_where(doc: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        geo.load_geojson(doc)


def test_a_bad_ring_inside_a_collection_is_located() -> None:
    unclosed = [[0, 0], [1, 0], [1, 1], [0, 1]]
    doc = {"type": "FeatureCollection", "features": [
        feature(poly(square())),
        feature({"type": "MultiPolygon", "coordinates": [[square(5, 5)], [unclosed]]}),
    ]}
    where = r"features\[1\]\.geometry\.coordinates\[1\]\[0\]"
    with pytest.raises(ConfigError, match=where + ": ring is not closed"):
        geo.load_geojson(doc)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read GeoJSON file"):
        geo.load_geojson(tmp_path / "missing.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not JSON"):
        geo.load_geojson(bad)


# ---------------------------------------------------------------------------------- point tests


def test_boundary_counts_as_inside_and_nan_as_outside() -> None:
    g = geo.load_geojson(poly(square(0, 0, 2)))
    lons = np.array([1.0, 0.0, 2.0, 1.0, 2.5, np.nan])
    lats = np.array([1.0, 0.0, 1.0, 2.0, 1.0, 1.0])
    got = geo.contains_points(g, lons, lats)
    assert got.dtype == np.bool_
    assert got.tolist() == [True, True, True, True, False, False]


def test_point_arrays_must_match() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        geo.contains_points(geo.load_geojson(poly(square())), [0.0, 1.0], [0.0])


def test_empty_point_arrays() -> None:
    assert geo.contains_points(geo.load_builtin("europe"), [], []).shape == (0,)


coord = st.floats(-10, 10, allow_nan=False).map(lambda v: round(v, 3))


@settings(max_examples=200, deadline=None)
@given(x0=coord, y0=coord, w=st.floats(0.01, 5).map(lambda v: round(v, 3)),
       h=st.floats(0.01, 5).map(lambda v: round(v, 3)),
       pts=st.lists(st.tuples(coord, coord), min_size=1, max_size=30))
def test_matches_the_closed_box_formula(x0: float, y0: float, w: float, h: float,
                                        pts: list[tuple[float, float]]) -> None:
    ring = [[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h], [x0, y0]]
    g = geo.load_geojson(poly(ring))
    xs = np.array([p[0] for p in pts] + [x0, x0 + w])
    ys = np.array([p[1] for p in pts] + [y0, y0 + h])
    want = (xs >= x0) & (xs <= x0 + w) & (ys >= y0) & (ys <= y0 + h)
    assert geo.contains_points(g, xs, ys).tolist() == want.tolist()


@settings(max_examples=50, deadline=None)
@given(pts=st.lists(st.tuples(st.floats(19, 31), st.floats(43, 49)), min_size=1, max_size=50))
def test_agrees_with_shapely_covers_on_a_real_border(pts: list[tuple[float, float]]) -> None:
    romania = geo.load_builtin("romania")
    xs, ys = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    want = [romania.covers(shapely.Point(x, y)) for x, y in pts]
    assert geo.contains_points(romania, xs, ys).tolist() == want
