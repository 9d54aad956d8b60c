"""The shipped scenarios, as files: where they are and how their data becomes record bodies.

Scenario data is plain YAML inside the package (`scenarios/2022/`): agreements, a vocabulary,
public site lists and the parties' declared holdings, each figure with its public source. This
module only finds and reads those files; logging them is the demo's job.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from detente.errors import ConfigError


def scenario_dir(name: str = "2022") -> Path:
    root = Path(str(resources.files("detente") / "scenarios" / name))
    if not root.is_dir():
        known = sorted(
            p.name
            for p in Path(str(resources.files("detente") / "scenarios")).iterdir()
            if p.is_dir() and not p.name.startswith(("_", ".")) and p.name != "shapes"
        )
        raise ConfigError(f"no scenario '{name}'; shipped: {', '.join(known)}")
    return root


def agreement_files(name: str = "2022") -> list[Path]:
    return sorted((scenario_dir(name) / "agreements").glob("*.yaml"))


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read scenario file {path}: {exc}") from None


def sites(name: str = "2022") -> list[dict[str, Any]]:
    data = _yaml(scenario_dir(name) / "sites.yaml")
    return list(data.get("sites", []))


def declaration_bodies(name: str = "2022") -> list[tuple[str, dict[str, Any]]]:
    """(party, record body) for each shipped declaration, in date order: holdings, the party's
    own sites with their locations, and the published aggregates."""
    all_sites = sites(name)
    out = [read_declaration(path, all_sites)
           for path in sorted((scenario_dir(name) / "declarations").glob("*.yaml"))]
    return sorted(out, key=lambda pb: (pb[1]["as_of"], pb[0]))


def read_declaration(path: Path, site_list: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """A declaration file (party, as_of, holdings, aggregates, source) as (party, record body);
    the body lists the party's sites its holdings use, located from `site_list`."""
    d = _yaml(path)
    if not isinstance(d, dict) or not isinstance(d.get("party"), str) or "as_of" not in d:
        raise ConfigError(f"{path}: a declaration file needs 'party', 'as_of' and 'holdings'")
    party = str(d["party"])
    holdings = [
        {k: v for k, v in h.items() if k in ("site", "category", "count", "attributes", "illustrative")}
        for h in d.get("holdings") or []
    ]
    used = {h.get("site") for h in holdings}
    own = [
        {
            "id": s["id"],
            "name": s["name"],
            "host": s["host"],
            "kind": s["kind"],
            "location": [float(x) for x in s["location"]],
        }
        for s in site_list
        if s.get("owner") == party and s["id"] in used
    ]
    body = {
        "as_of": str(d["as_of"]),
        "holdings": holdings,
        "sites": own,
        "aggregates": dict(d.get("aggregates") or {}),
        "source": d.get("source", ""),
    }
    return party, body
