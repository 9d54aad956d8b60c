"""Build the composite zones the 2021–22 proposals name, as unions of the shipped border shapes.

    python scripts/make_proposal_zones.py      # writes src/detente/scenarios/2022/proposals/*.geojson

Deterministic: the same shipped shapes give the same bytes (coordinates rounded to 1e-4°, ~10 m,
far below the 1:50m source's precision). Which states each zone holds, and why, is in
src/detente/scenarios/2022/proposals/SOURCES.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from shapely.geometry import mapping
from shapely.ops import unary_union

from detente import geo

OUT = Path(__file__).resolve().parents[1] / "src/detente/scenarios/2022/proposals"

ZONES = {
    # States that joined NATO after the NATO–Russia Founding Act of 27 May 1997.
    "nato-after-1997": [
        *["czechia", "hungary", "poland"],  # 1999
        *["bulgaria", "estonia", "latvia", "lithuania", "romania", "slovakia", "slovenia"],  # 2004
        *["albania", "croatia"],  # 2009
        "montenegro",  # 2017
        "north-macedonia",  # 2020
    ],
    # Former Soviet states outside NATO that the shipped shapes cover (Russia's draft treaty with
    # the United States, Art. 4; its draft with NATO, Art. 7, adds Central Asia).
    "former-ussr-outside-nato": ["ukraine", "belarus", "moldova", "georgia", "armenia", "azerbaijan",
                                 "kazakhstan"],
}


def _round(v: object) -> object:
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, list | tuple):
        return [_round(x) for x in v]
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    return v


def main() -> None:
    for name, members in ZONES.items():
        geom = unary_union([geo.load_builtin(m) for m in members]).simplify(0.01, preserve_topology=True)
        doc = {"type": "Feature", "properties": {"name": name, "members": members,
                                                  "source": "Natural Earth 1:50m via the shapes shipped in "
                                                            "detente/geo/shapes (see CREDITS.md)"},
               "geometry": _round(mapping(geom))}
        path = OUT / f"{name}.geojson"
        path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(f"{path}: {len(path.read_bytes()) // 1024} kB, valid={geom.is_valid}")


if __name__ == "__main__":
    main()
