"""The shipped scenarios, as files: where they are and how their data becomes record bodies.

Scenario data is plain YAML inside the package (`scenarios/2022/`): agreements, proposals, a
vocabulary, public site lists and the parties' declared holdings, each figure with its public
source. Only the demo and the tests read it; no library module does (docs/architecture.md), so a
workspace about other states never shows this one's material.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from detente.desk.declaration import read_declaration
from detente.errors import ConfigError

__all__ = [
    "OFFERED_QUOTAS",
    "agreement_files",
    "declaration_bodies",
    "proposal_files",
    "scenario_dir",
    "sites",
    "sites_file",
]


def scenario_dir(name: str = "2022") -> Path:
    root = Path(str(resources.files("detente") / "scenarios" / name))
    if not root.is_dir():
        known = sorted(
            p.name
            for p in Path(str(resources.files("detente") / "scenarios")).iterdir()
            if p.is_dir() and not p.name.startswith(("_", "."))
        )
        raise ConfigError(f"no scenario '{name}'; shipped: {', '.join(known)}")
    return root


def agreement_files(name: str = "2022") -> list[Path]:
    return sorted((scenario_dir(name) / "agreements").glob("*.yaml"))


def proposal_files(name: str = "2022") -> list[Path]:
    return sorted((scenario_dir(name) / "proposals").glob("*.yaml"))


def sites_file(name: str = "2022") -> Path:
    """The scenario's public site list (the `sites:` YAML that `analysis.sites.load_sites` reads)."""
    path = scenario_dir(name) / "sites.yaml"
    if not path.is_file():
        raise ConfigError(f"scenario {name!r} ships no sites.yaml; pass a sites file instead")
    return path


#: A quota that was on the table in a scenario, marked on its regime comparison plot.
OFFERED_QUOTAS: dict[str, tuple[int, str]] = {
    # January 2022: the U.S. offered visits to "two Russian ground-launched missile bases".
    "2022": (2, "2022 offer: two bases"),
}


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
