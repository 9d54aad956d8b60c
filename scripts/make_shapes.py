#!/usr/bin/env python3
"""Make the border shapes Détente ships, from Natural Earth via the npm package `world-atlas`.

Run once by a maintainer, never at run time: the output is committed under
src/detente/geo/shapes/, so the project needs no download to evaluate a zone.

    curl -O https://registry.npmjs.org/world-atlas/-/world-atlas-2.0.2.tgz   # or: npm pack world-atlas@2.0.2
    .venv/bin/python scripts/make_shapes.py world-atlas-2.0.2.tgz

The tarball is checked against the SHA-512 integrity value the npm registry publishes for this
version (recorded below), so the shipped shapes trace to a known input. The TopoJSON is decoded
here (quantised, delta-encoded arcs; see the TopoJSON specification) rather than with a library,
so the conversion has no dependency beyond shapely and numpy and every step is visible.

What the script decides, and why, is written to CREDITS.md beside the shapes (Crimea, Northern
Cyprus, Åland, the meaning of "europe" and "atlantic-to-urals"); the same facts are in the
constants below. Output is deterministic: running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import itertools
import json
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity, make_valid

WORLD_ATLAS_VERSION = "2.0.2"
#: `dist.integrity` of world-atlas@2.0.2 in the npm registry metadata (https://registry.npmjs.org/world-atlas/2.0.2).
WORLD_ATLAS_INTEGRITY = (
    "sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ=="
)
NATURAL_EARTH_VERSION = "4.1.0"  # stated in world-atlas 2.0.2's README
RESOLUTION = "50m"
MEMBER = f"package/countries-{RESOLUTION}.json"
DECIMALS = 5  # 1e-5° ≈ 1 m; the 1:50m data is quantised to ~0.0036° × 0.0017°, so nothing is lost
SOURCE = (f"Natural Earth {NATURAL_EARTH_VERSION} Admin 0 countries 1:{RESOLUTION} (public domain), "
          f"via world-atlas {WORLD_ATLAS_VERSION}")

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "detente" / "geo" / "shapes"


@dataclass(frozen=True)
class Country:
    """A shipped country shape: the Natural Earth units whose union it is."""

    builtin: str  # file stem and the name agreements use
    iso: str  # ISO 3166-1 alpha-2 (XK for Kosovo, the code in common use)
    name: str
    units: tuple[str, ...]  # Natural Earth / world-atlas `properties.name` values


def _c(builtin: str, iso: str, name: str, *units: str) -> Country:
    return Country(builtin, iso, name, units or (name,))


#: The states in `europe`: every state wholly or mainly in Europe except Russia (see CREDITS.md), plus
#: the European dependencies Natural Earth maps separately. Åland and Northern Cyprus are folded
#: into Finland and Cyprus (their internationally recognised sovereign); Ukraine gains Crimea below.
EUROPE: tuple[Country, ...] = (
    _c("albania", "AL", "Albania"), _c("andorra", "AD", "Andorra"), _c("austria", "AT", "Austria"),
    _c("belarus", "BY", "Belarus"), _c("belgium", "BE", "Belgium"),
    _c("bosnia-and-herzegovina", "BA", "Bosnia and Herzegovina", "Bosnia and Herz."),
    _c("bulgaria", "BG", "Bulgaria"), _c("croatia", "HR", "Croatia"),
    _c("cyprus", "CY", "Cyprus", "Cyprus", "N. Cyprus"), _c("czechia", "CZ", "Czechia"),
    _c("denmark", "DK", "Denmark"), _c("estonia", "EE", "Estonia"),
    _c("faroe-islands", "FO", "Faroe Islands", "Faeroe Is."),
    _c("finland", "FI", "Finland", "Finland", "Åland"),
    _c("france", "FR", "France"), _c("germany", "DE", "Germany"), _c("greece", "GR", "Greece"),
    _c("guernsey", "GG", "Guernsey"), _c("hungary", "HU", "Hungary"), _c("iceland", "IS", "Iceland"),
    _c("ireland", "IE", "Ireland"), _c("isle-of-man", "IM", "Isle of Man"), _c("italy", "IT", "Italy"),
    _c("jersey", "JE", "Jersey"), _c("kosovo", "XK", "Kosovo"), _c("latvia", "LV", "Latvia"),
    _c("liechtenstein", "LI", "Liechtenstein"), _c("lithuania", "LT", "Lithuania"),
    _c("luxembourg", "LU", "Luxembourg"), _c("malta", "MT", "Malta"), _c("moldova", "MD", "Moldova"),
    _c("monaco", "MC", "Monaco"), _c("montenegro", "ME", "Montenegro"),
    _c("netherlands", "NL", "Netherlands"), _c("north-macedonia", "MK", "North Macedonia", "Macedonia"),
    _c("norway", "NO", "Norway"), _c("poland", "PL", "Poland"), _c("portugal", "PT", "Portugal"),
    _c("romania", "RO", "Romania"), _c("san-marino", "SM", "San Marino"), _c("serbia", "RS", "Serbia"),
    _c("slovakia", "SK", "Slovakia"), _c("slovenia", "SI", "Slovenia"), _c("spain", "ES", "Spain"),
    _c("sweden", "SE", "Sweden"), _c("switzerland", "CH", "Switzerland"), _c("ukraine", "UA", "Ukraine"),
    _c("united-kingdom", "GB", "United Kingdom"), _c("vatican", "VA", "Vatican City", "Vatican"),
)
#: Shipped on their own, outside `europe`: the scenario's parties and the other NATO members, and the
#: transcontinental states that `atlantic-to-urals` takes a part of.
OTHERS: tuple[Country, ...] = (
    _c("russia", "RU", "Russia"), _c("united-states", "US", "United States", "United States of America"),
    _c("canada", "CA", "Canada"), _c("turkey", "TR", "Turkey"), _c("georgia", "GE", "Georgia"),
    _c("armenia", "AM", "Armenia"), _c("azerbaijan", "AZ", "Azerbaijan"),
    _c("kazakhstan", "KZ", "Kazakhstan"),
)

#: `europe` keeps only what lies in this lon/lat box: it drops French Guiana, the French and Dutch
#: Caribbean and the Indian Ocean departments, and keeps what the CFE Treaty (Art. II.1(B)) names as
#: European island territories: the Azores, Madeira, the Canary Islands, the Faroes, Svalbard.
EUROPE_BOX = (-32.0, 27.0, 70.0, 90.0)

#: Crimea as Natural Earth 4.1.0 draws it: one polygon inside Russia's MultiPolygon, found by these
#: points (Sevastopol, Simferopol, Kerch) and required to lie wholly within CRIMEA_BOX.
CRIMEA_POINTS = ((33.52, 44.60), (34.10, 44.95), (36.47, 45.36))
CRIMEA_BOX = (32.0, 44.0, 36.70, 46.5)

#: West of this line lies the part of Russia and Kazakhstan in the CFE area of application ("all
#: territory lying west of the Ural River and the Caspian Sea", Art. II.1(B)), plus Novaya Zemlya and
#: Franz Josef Land, which the treaty names. The line follows the Ural watershed through named peaks
#: and passes, then the Ural River through the towns on it, then the middle of the Caspian. Points
#: are from memory of standard gazetteers, good to roughly 0.2° (~20 km): fine for "is this base in
#: European Russia", not for a site within a few tens of kilometres of the line. (lon, lat), north to south.
URAL_LINE: tuple[tuple[float, float], ...] = (
    (70.0, 90.0),
    (70.0, 80.0),    # between Franz Josef Land (to ~65°E) and Severnaya Zemlya (~95°E)
    (69.5, 77.0),    # east of Cape Zhelaniya, the northern tip of Novaya Zemlya (68.6°E)
    (66.5, 70.5),    # Kara Sea, between Vaygach/Yugorsky Peninsula and Yamal
    (66.1, 68.45),   # Konstantinov Kamen, the northern end of the Urals, on Baydaratskaya Bay
    (64.9, 66.1),    # Mount Payer, Polar Urals
    (60.1, 65.05),   # Mount Narodnaya
    (59.2, 63.9),    # Mount Telposiz
    (59.55, 60.5),   # Denezhkin Kamen
    (59.6, 59.6),    # Konzhakovsky Kamen
    (60.33, 56.83),  # the Europe–Asia marker west of Yekaterinburg
    (59.75, 55.07),  # the Zlatoust pass
    (59.4, 54.7),    # source of the Ural River, near Mount Kruglaya (~150 km north of Magnitogorsk)
    (59.2, 53.9),    # Verkhneuralsk
    (59.05, 53.4),   # Magnitogorsk
    (59.4, 52.4),    # Iriklinsky reservoir
    (58.57, 51.2),   # Orsk, where the river turns west
    (58.3, 51.2),    # Novotroitsk
    (57.47, 51.47),  # Gai
    (55.1, 51.77),   # Orenburg
    (53.38, 51.53),  # Ilek
    (51.37, 51.23),  # Oral (Uralsk), where the river turns south
    (51.17, 50.19),  # Chapaev
    (51.75, 48.55),  # Inder
    (51.9, 47.1),    # Atyrau
    (51.62, 46.88),  # the mouth, on the Caspian
    (51.0, 46.0),    # then down the middle of the Caspian Sea
    (49.5, 45.0),
    (49.5, 41.0),
    (51.0, 37.5),
    (51.0, 30.0),
)
#: The CFE area includes Turkey "north and west of a line extending from the point of intersection of
#: the Turkish border with the 39th parallel to Muradiye, Patnos, Karayazi, Tekman, Kemaliye, Feke,
#: Ceyhan, Dogankent, Gözne and thence to the sea" (Art. II.1(B)). Town positions approximate, as above;
#: Doğankent is the least certain (~0.1°). (lon, lat), east to west.
TURKEY_LINE: tuple[tuple[float, float], ...] = (
    (45.5, 39.0),    # east of the Turkish–Iranian border, on the 39th parallel
    (43.76, 39.0),   # Muradiye
    (42.86, 39.23),  # Patnos
    (42.14, 39.70),  # Karayazı
    (41.51, 39.64),  # Tekman
    (38.50, 39.26),  # Kemaliye
    (35.91, 37.82),  # Feke
    (35.82, 37.03),  # Ceyhan
    (35.35, 36.90),  # Doğankent
    (34.57, 36.98),  # Gözne
    (34.57, 35.5),   # "thence to the sea", due south
)


# ------------------------------------------------------------------------------------- input


def verify_integrity(data: bytes, expected: str = WORLD_ATLAS_INTEGRITY) -> None:
    algo, _, want = expected.partition("-")
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != want:
        raise SystemExit(f"integrity mismatch: the tarball's {algo} is {got}, npm publishes {want} for "
                         f"world-atlas@{WORLD_ATLAS_VERSION}; fetch the tarball again from the npm registry")


def read_topology(tarball: Path) -> dict[str, Any]:
    data = tarball.read_bytes()
    verify_integrity(data)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise SystemExit(f"{tarball} has no {MEMBER}")
        topology: dict[str, Any] = json.loads(member.read())
    return topology


# ------------------------------------------------------------------------------ TopoJSON decoding

Position = tuple[float, float]


def decode_arcs(topology: dict[str, Any]) -> list[list[Position]]:
    """Absolute lon/lat positions of every arc: undo delta encoding, then the quantisation transform."""
    transform = topology.get("transform")
    out: list[list[Position]] = []
    for arc in topology["arcs"]:
        a = np.asarray(arc, dtype=np.float64)[:, :2]
        if transform is not None:
            a = np.cumsum(a, axis=0) * transform["scale"] + transform["translate"]
        out.append([(float(x), float(y)) for x, y in a])
    return out


def decode_ring(indexes: Sequence[int], arcs: list[list[Position]]) -> list[Position]:
    """Join arcs into a ring; a negative index ~i means arc i reversed; shared endpoints appear once."""
    ring: list[Position] = []
    for i in indexes:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring.extend(pts if not ring else pts[1:])
    return ring


def decode_polygons(geometry: dict[str, Any], arcs: list[list[Position]]) -> list[list[list[Position]]]:
    """A Polygon or MultiPolygon object as a list of polygons, each a list of rings (shell first)."""
    kind = geometry["type"]
    if kind == "Polygon":
        return [[decode_ring(r, arcs) for r in geometry["arcs"]]]
    if kind == "MultiPolygon":
        return [[decode_ring(r, arcs) for r in p] for p in geometry["arcs"]]
    raise SystemExit(f"{geometry.get('properties')}: unexpected geometry type {kind}")


# ------------------------------------------------------------------------------- the antimeridian


def _unwrap(ring: list[Position]) -> tuple[list[Position], bool]:
    """Make longitudes continuous across ±180°; report whether the ring crossed the antimeridian."""
    out = [ring[0]]
    offset = 0.0
    crossed = False
    for (x0, _), (x, y) in itertools.pairwise(ring):
        if x - x0 > 180:
            offset -= 360
            crossed = True
        elif x - x0 < -180:
            offset += 360
            crossed = True
        out.append((x + offset, y))
    if offset:
        raise SystemExit("a ring encircles a pole; this script does not handle those (none is shipped)")
    return out, crossed


def planar_polygon(rings: list[list[Position]]) -> tuple[BaseGeometry, bool]:
    """One spherical polygon as planar lon/lat polygon(s), cut at ±180°.

    world-atlas stitches Natural Earth's antimeridian cuts back together (it targets d3's spherical
    rendering), so Chukotka and Wrangel Island come as rings that jump from +180 to -180. Read as
    planar coordinates those rings self-intersect across the whole map; unwrapping them and cutting
    at ±180° restores what Natural Earth itself publishes.
    """
    unwrapped = [_unwrap(r) for r in rings]
    if not any(crossed for _, crossed in unwrapped):
        return Polygon(rings[0], rings[1:]), False
    shell = unwrapped[0][0]
    poly = Polygon(shell, [h for h, _ in unwrapped[1:]])
    pieces = []
    for k in (-1, 0, 1):
        window = box(-180 + 360 * k, -90, 180 + 360 * k, 90)
        piece = poly.intersection(window)
        if not piece.is_empty:
            pieces.append(shapely.affinity.translate(piece, xoff=-360 * k))
    return shapely.union_all(pieces), True


def polygons_of(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for part in getattr(geom, "geoms", []) for g in polygons_of(part)]


# ------------------------------------------------------------------------------------ assembling


def load_units(topology: dict[str, Any], wanted: set[str], log: list[str]) -> dict[str, list[Polygon]]:
    """The wanted Natural Earth units as lists of planar polygons, keyed by `properties.name`."""
    arcs = decode_arcs(topology)
    units: dict[str, list[Polygon]] = {}
    for g in topology["objects"]["countries"]["geometries"]:
        name = g["properties"]["name"]
        if name not in wanted:
            continue
        polys: list[Polygon] = []
        for rings in decode_polygons(g, arcs):
            geom, crossed = planar_polygon(rings)
            if crossed:
                log.append(f"{name}: a polygon crosses the antimeridian in world-atlas (stitched); "
                           f"cut at ±180° into {len(polygons_of(geom))} planar parts")
            polys.extend(polygons_of(geom))
        units[name] = polys
    return units


def checked(label: str, geom: BaseGeometry, log: list[str]) -> BaseGeometry:
    """Valid polygonal geometry, or a repaired one with the repair logged (never silent)."""
    if geom.is_valid:
        return geom
    why = explain_validity(geom)
    fixed = shapely.union_all(polygons_of(make_valid(geom)))
    log.append(f"{label}: invalid ({why}); repaired with make_valid, "
               f"area {geom.area:.6f} -> {fixed.area:.6f}")
    return fixed


def split_crimea(units: dict[str, list[Polygon]], log: list[str]) -> Polygon:
    """Take Crimea out of Natural Earth's Russia and return it; fail loudly if the data is not as expected."""
    lo = box(*CRIMEA_BOX)
    found = [p for p in units["Russia"] if lo.contains(p)]
    if len(found) != 1 or not all(found[0].contains(Point(*xy)) for xy in CRIMEA_POINTS):
        raise SystemExit(f"expected exactly one Russian polygon covering Crimea, found {len(found)}; "
                         "the source changed: review the Crimea handling before shipping")
    if any(p.contains(Point(*CRIMEA_POINTS[0])) for p in units["Ukraine"]):
        raise SystemExit("Natural Earth already places Sevastopol in Ukraine: review the Crimea handling")
    units["Russia"] = [p for p in units["Russia"] if p is not found[0]]
    log.append(f"Crimea: Natural Earth {NATURAL_EARTH_VERSION} puts it in Russia (one polygon, "
               f"{len(found[0].exterior.coords)} vertices); moved to Ukraine")
    return found[0]


def west_of(line: Sequence[Position], *, west: float) -> Polygon:
    """The area between a north–south line and meridian `west` (the line ends must reach past the area)."""
    return Polygon([*line, (west, line[-1][1]), (west, line[0][1])])


def turkey_cfe_area() -> Polygon:
    north = 43.0
    return Polygon([*TURKEY_LINE, (25.0, TURKEY_LINE[-1][1]), (25.0, north), (46.0, north), (46.0, 39.0)])


def rounded(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.round(c, DECIMALS))


def feature_collection(fid: str, name: str, geom: BaseGeometry, note: str = "") -> dict[str, Any]:
    polys = [orient(p, 1.0) for p in polygons_of(geom)]  # RFC 7946: exterior rings counter-clockwise
    out = MultiPolygon(polys) if len(polys) > 1 else polys[0]
    source = SOURCE + (f"; {note}" if note else "")
    properties = {"id": fid, "name": name, "source": source}
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": properties, "geometry": mapping(out)}]}


def dump(doc: dict[str, Any]) -> str:
    def lists(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return [lists(x) for x in v]
        if isinstance(v, dict):
            return {k: lists(x) for k, x in v.items()}
        return v
    return json.dumps(lists(doc), ensure_ascii=False, separators=(",", ":")) + "\n"


def build(topology: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every shipped file (stem → GeoJSON document) and a log of what was decided or repaired."""
    log: list[str] = []
    countries = (*EUROPE, *OTHERS)
    units = load_units(topology, {u for c in countries for u in c.units}, log)
    for name, polys in units.items():
        for i, p in enumerate(polys):
            if not p.is_valid:
                log.append(f"source {name} polygon {i} invalid after decoding: {explain_validity(p)}")
    crimea = split_crimea(units, log)

    def unit_geom(c: Country) -> BaseGeometry:
        missing = [u for u in c.units if u not in units]
        if missing:
            raise SystemExit(f"{c.builtin}: Natural Earth has no unit named {missing}")
        return shapely.union_all([p for u in c.units for p in units[u]])

    geoms: dict[str, BaseGeometry] = {}
    files: dict[str, dict[str, Any]] = {}

    def emit(stem: str, fid: str, name: str, geom: BaseGeometry, note: str = "") -> None:
        g = checked(stem, rounded(checked(stem, geom, log)), log)
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise SystemExit(f"{stem}: not an area after processing ({g.geom_type})")
        geoms[stem] = g
        files[stem] = feature_collection(fid, name, g, note)

    recognised = "within its internationally recognised borders"
    for c in countries:
        g = unit_geom(c)
        note = ""
        if c.builtin == "ukraine":
            g = shapely.union_all([g, crimea])
            note = f"{recognised}: Crimea moved here from Natural Earth's Russia"
        elif c.builtin == "russia":
            note = f"{recognised}: Crimea removed (Natural Earth places it in Russia)"
        elif len(c.units) > 1:
            note = "union of Natural Earth units " + ", ".join(c.units)
        emit(c.builtin, c.iso, c.name, g, note)
    by_name = {c.builtin: c for c in countries}
    emit("ukraine-without-crimea", "UA", "Ukraine without Crimea", unit_geom(by_name["ukraine"]),
         "as Natural Earth draws it (Crimea excluded)")
    ru_with_crimea = shapely.union_all([unit_geom(by_name["russia"]), crimea])
    emit("russia-with-crimea", "RU", "Russia with Crimea", ru_with_crimea,
         "as Natural Earth draws it (Crimea included)")
    emit("crimea", "UA-43", "Crimea (Autonomous Republic of Crimea and Sevastopol)", crimea,
         "the Crimea polygon of Natural Earth's Russia")

    europe = shapely.union_all([geoms[c.builtin] for c in EUROPE]).intersection(box(*EUROPE_BOX))
    emit("europe", "europe", "Europe (European states other than Russia, Turkey, Kazakhstan and the "
         "South Caucasus)", europe, "union of the states listed in CREDITS.md, clipped to " + str(EUROPE_BOX))
    ural = west_of(URAL_LINE, west=15.0)
    attu = shapely.union_all([
        europe,
        geoms["russia-with-crimea"].intersection(ural),
        geoms["kazakhstan"].intersection(ural),
        geoms["georgia"], geoms["armenia"], geoms["azerbaijan"],
        geoms["turkey"].intersection(turkey_cfe_area()),
    ])
    emit("atlantic-to-urals", "atlantic-to-urals", "Atlantic to the Urals (CFE Treaty area of application)",
         attu, "europe plus Russia and Kazakhstan west of the Ural line, the South Caucasus and Turkey's CFE "
         "part, per CREDITS.md (approximate to ~20 km along the Ural line)")
    return files, log


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("tarball", type=Path, help=f"world-atlas-{WORLD_ATLAS_VERSION}.tgz from the npm registry")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    files, log = build(read_topology(args.tarball))
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.geojson"):
        if old.stem not in files:
            old.unlink()
    total = 0
    for stem, doc in sorted(files.items()):
        text = dump(doc)
        back = shape(json.loads(text)["features"][0]["geometry"])
        if not back.is_valid:
            raise SystemExit(f"{stem}: written geometry is invalid: {explain_validity(back)}")
        (args.out / f"{stem}.geojson").write_text(text, encoding="utf-8")
        total += len(text.encode())
        print(f"{stem:26s} {len(text.encode()):>9,d} bytes")
    print(f"{len(files)} files, {total:,d} bytes in {args.out}")
    for line in log:
        print("note:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
