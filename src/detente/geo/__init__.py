"""Zones as shapes: the border shapes shipped with Détente, user GeoJSON, and point-in-zone tests.

A zone decides whether a declared site counts as "in Ukraine" or "in Europe", so a wrong shape is a
wrong compliance finding. Hence user GeoJSON is checked, never repaired: an unclosed ring, a
self-intersection or a coordinate out of range is refused with what is wrong and where, because a
silent fix would evaluate the agreement against a zone its authors did not write. The shipped
shapes go through the same checks, so they meet the bar asked of users.

Coordinates are GeoJSON's: longitude, latitude in degrees (WGS 84), treated as planar. A polygon
must not cross the antimeridian (RFC 7946 §3.1.9: cut it into parts on either side); an edge that
spans more than 180° of longitude is refused, since read on the plane it would go the long way
round the world. Shipped shapes are listed, with their sources and decisions, in
geo/shapes/CREDITS.md.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from detente.errors import ConfigError

__all__ = ["builtin_shape_names", "contains_points", "load_builtin", "load_geojson"]

_SHAPES_PACKAGE = "detente.geo.shapes"
_SUFFIX = ".geojson"
_AREAS = ("Polygon", "MultiPolygon")


def builtin_shape_names() -> list[str]:
    """Names `load_builtin` accepts (the shipped files' stems), sorted."""
    return list(_builtin_names())


@functools.cache
def _builtin_names() -> tuple[str, ...]:
    root = resources.files(_SHAPES_PACKAGE)
    return tuple(sorted(p.name[: -len(_SUFFIX)] for p in root.iterdir() if p.name.endswith(_SUFFIX)))


def load_builtin(name: str) -> BaseGeometry:
    """A shipped shape by name (e.g. "ukraine", "europe"), prepared for fast point tests; cached."""
    names = _builtin_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown builtin shape '{name}'{hint} Known shapes: {', '.join(names)}")
    return _load_builtin(name)


@functools.cache
def _load_builtin(name: str) -> BaseGeometry:
    text = resources.files(_SHAPES_PACKAGE).joinpath(name + _SUFFIX).read_text(encoding="utf-8")
    geom = _parse(json.loads(text), f"builtin shape '{name}'")
    shapely.prepare(geom)
    return geom


def load_geojson(data: Mapping[str, Any] | str | PathLike[str]) -> BaseGeometry:
    """A GeoJSON FeatureCollection, Feature or Polygon/MultiPolygon geometry (a dict, or a file path)
    as one shapely area: the union of its features.

    Raises ConfigError naming the first problem and where it is (e.g. `features[1].geometry.
    coordinates[0]: ring is not closed`).
    """
    if not isinstance(data, str | PathLike):
        return _parse(data, "GeoJSON")
    path = Path(data)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read GeoJSON file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not JSON: {exc}; a zone file must be GeoJSON (RFC 7946)") from None
    return _parse(doc, str(path))


def contains_points(geom: BaseGeometry, lons: npt.ArrayLike, lats: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Which points lie in `geom`, vectorised; a point on the boundary counts as inside.

    Boundary points count (covers, not contains) so that a site declared exactly on a border line
    is treated as in the zone rather than silently falling out of both neighbours; NaN coordinates
    are outside. Prepares `geom` in place, which is harmless and makes later calls faster.
    """
    x = np.asarray(lons, dtype=np.float64)
    y = np.asarray(lats, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"lons and lats differ in shape: {x.shape} vs {y.shape}")
    shapely.prepare(geom)
    return np.asarray(shapely.intersects_xy(geom, x, y), dtype=np.bool_)


# ----------------------------------------------------------------------------- parsing, checked


def _parse(doc: Any, what: str) -> BaseGeometry:
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{what}: expected a GeoJSON object, got {type(doc).__name__}")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list) or not features:
            raise ConfigError(f"{what}: a FeatureCollection needs a non-empty 'features' list")
        parts = [_feature(f, f"features[{i}]", what) for i, f in enumerate(features)]
    elif kind == "Feature":
        parts = [_feature(doc, "", what)]
    else:
        parts = [_geometry(doc, "", what)]
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _feature(doc: Any, where: str, what: str) -> BaseGeometry:
    if not isinstance(doc, Mapping) or doc.get("type") != "Feature":
        raise ConfigError(f"{what}: {where or 'document'} is not a GeoJSON Feature")
    return _geometry(doc.get("geometry"), _join(where, "geometry"), what)


def _geometry(doc: Any, where: str, what: str) -> BaseGeometry:
    loc = f"{what}: {where or 'geometry'}"
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{loc} is missing or not an object; a zone needs a Polygon or MultiPolygon")
    kind = doc.get("type")
    if kind not in _AREAS:
        raise ConfigError(f"{loc} is a {kind!r}; a zone must be an area: Polygon or MultiPolygon")
    coords = doc.get("coordinates")
    cwhere = _join(where, "coordinates")
    if kind == "Polygon":
        _polygon(coords, cwhere, what)
    else:
        polys = _seq(coords, cwhere, what, "a list of polygons")
        if not polys:
            raise ConfigError(f"{what}: {cwhere} is empty")
        for i, p in enumerate(polys):
            _polygon(p, f"{cwhere}[{i}]", what)
    geom = shape(doc)
    if not geom.is_valid:
        raise ConfigError(f"{loc} is not a valid area: {_validity(geom)}. Fix the shape at its source; "
                          "Détente does not repair zones, since a repaired zone is not the one agreed")
    return geom


def _polygon(coords: Any, where: str, what: str) -> None:
    rings = _seq(coords, where, what, "a list of rings")
    if not rings:
        raise ConfigError(f"{what}: {where} has no rings")
    for i, ring in enumerate(rings):
        _ring(ring, f"{where}[{i}]", what)


def _ring(coords: Any, where: str, what: str) -> None:
    pts = _seq(coords, where, what, "a list of [lon, lat] positions")
    if len(pts) < 4:
        raise ConfigError(f"{what}: {where} has {len(pts)} positions; a closed ring needs at least 4 "
                          "(the first repeated as the last)")
    prev: tuple[float, float] | None = None
    first: tuple[float, float] | None = None
    for j, p in enumerate(pts):
        lon, lat = _position(p, f"{where}[{j}]", what)
        if prev is not None and abs(lon - prev[0]) > 180:
            raise ConfigError(f"{what}: {where}[{j}]: the edge from longitude {prev[0]} to {lon} spans more "
                              "than 180°; split the polygon at the antimeridian (RFC 7946 §3.1.9)")
        prev = (lon, lat)
        first = first or prev
    if first != prev:
        raise ConfigError(f"{what}: {where}: ring is not closed (first position {list(first or ())}, last "
                          f"{list(prev or ())}); repeat the first position at the end")


def _position(p: Any, where: str, what: str) -> tuple[float, float]:
    if (not isinstance(p, Sequence) or isinstance(p, str) or len(p) not in (2, 3)
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)):
        raise ConfigError(f"{what}: {where}: a position is [longitude, latitude] in degrees, got {p!r}")
    lon, lat = float(p[0]), float(p[1])
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise ConfigError(f"{what}: {where}: longitude {p[0]} is outside [-180, 180] "
                          "(GeoJSON puts longitude first: [lon, lat])")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise ConfigError(f"{what}: {where}: latitude {p[1]} is outside [-90, 90] "
                          "(GeoJSON puts longitude first: [lon, lat])")
    return lon, lat


def _seq(v: Any, where: str, what: str, expected: str) -> Sequence[Any]:
    if not isinstance(v, Sequence) or isinstance(v, str):
        raise ConfigError(f"{what}: {where or 'coordinates'} must be {expected}, got {type(v).__name__}")
    return v


def _validity(geom: BaseGeometry) -> str:
    reason = str(explain_validity(geom))
    # explain_validity says e.g. "Self-intersection[30.5 50.4]"; name the coordinates as lon, lat.
    if "[" in reason and reason.endswith("]"):
        head, _, xy = reason[:-1].partition("[")
        parts = xy.split()
        if len(parts) == 2:
            return f"{head.lower()} at longitude {parts[0]}, latitude {parts[1]}"
    return reason


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key
