"""`write_comparison`: the regime comparison computed and written to a directory, for the CLI and
the demo (the report and the dashboard show what a workspace's DIR/analysis holds).

Writes detection-vs-quota.{png,svg,csv,md} and comparison.json into `out_dir` and returns the
result with the paths filled in; the computation itself is compare.compare_regimes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from detente.analysis import plots, tables
from detente.analysis.compare import ComparisonResult, Settings, compare_regimes
from detente.analysis.sites import Site, load_sites, sites_from_records
from detente.errors import ConfigError

STEM = "detection-vs-quota"

SitesArg = Path | Sequence[Site] | Sequence[Mapping[str, Any]]


def resolve_sites(sites: SitesArg) -> tuple[Site, ...]:
    """A path (a sites YAML file), Site records, or parsed mappings."""
    if isinstance(sites, Path):
        return load_sites(sites)
    if all(isinstance(s, Site) for s in sites):
        return tuple(s for s in sites if isinstance(s, Site))
    return sites_from_records([s for s in sites if not isinstance(s, Site)])


def write_comparison(sites: SitesArg, out_dir: Path, settings: Settings | None = None) -> ComparisonResult:
    """Compare unilateral choice, joint random draws and challenge quotas on `sites`, and write
    the table, the plot and the JSON into `out_dir`."""
    result = compare_regimes(resolve_sites(sites), settings)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        files = plots.write(result, out_dir / STEM)
        for fmt, text in (("md", tables.markdown(result)), ("csv", tables.csv_text(result))):
            path = out_dir / f"{STEM}.{fmt}"
            path.write_text(text, encoding="utf-8")
            files[fmt] = str(path)
        files["json"] = str(out_dir / "comparison.json")
        result = result.with_files(files)
        Path(files["json"]).write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the comparison to {out_dir}: {exc.strerror or exc}; "
                          "choose a writable --out directory") from None
    return result
