"""The site lists the analysis reads: only id, owner and kind, from a scenario's sites.yaml.

The full site records (names, coordinates, sources) belong to the scenario and the declarations;
the analysis needs to know only which party declares a site and what class it is, so it reads
those three fields and refuses anything it cannot trust (a missing field, a duplicate id) with
the file and the entry named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from detente.errors import ConfigError

FIELDS = ("id", "owner", "kind")


@dataclass(frozen=True)
class Site:
    id: str
    owner: str  # the party that declares the site
    kind: str   # the site class: icbm-base, missile-brigade, storage, …


def sites_from_records(records: Sequence[Mapping[str, Any]], where: str = "sites") -> tuple[Site, ...]:
    """Sites from already-parsed entries (each a mapping with at least id, owner and kind)."""
    out: list[Site] = []
    seen: set[str] = set()
    for i, entry in enumerate(records):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: entry {i + 1} is not a mapping; each site needs id, owner and kind")
        values = []
        for f in FIELDS:
            v = entry.get(f)
            if not isinstance(v, str) or not v.strip():
                ident = entry.get("id", f"entry {i + 1}")
                raise ConfigError(f"{where}: site {ident!s} has no {f} (expected a non-empty string)")
            values.append(v.strip())
        if values[0] in seen:
            raise ConfigError(f"{where}: site id {values[0]!r} appears twice; site ids must be unique")
        seen.add(values[0])
        out.append(Site(*values))
    return tuple(out)


def load_sites(path: Path) -> tuple[Site, ...]:
    """Read a sites file (a `sites:` list of id, name, owner, host, kind, location)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read sites file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"sites file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("sites"), list):
        raise ConfigError(f"sites file {path} must be a mapping with a `sites:` list")
    return sites_from_records(data["sites"], where=str(path))
