"""How strong is a verification regime, before anyone signs.

- detection.py — exact P(at least one violation found): hypergeometric draws, imperfect
  inspections, several periods, strata, weighted draws, challenges guided by a prior;
- sampling.py — the fewest inspections reaching a target, beside the attribute-sampling rule;
- games.py — inspection games after Avenhaus & Canty: equilibria, deterrence, reference periods;
- regime.py, montecarlo.py — regimes against violator strategies, exactly and by simulation;
- compare.py, tables.py, plots.py, export.py — ways to choose sites compared, quota by quota;
- sites.py — the site lists; cli.py — `detente analyze`.

Everything but export.py, plots.py and cli.py is plain computation without I/O. docs/analysis.md
has the formulas and their sources.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from detente.analysis.compare import ComparisonResult, Settings, compare_regimes
from detente.analysis.detection import detection_probability, miss_probability
from detente.analysis.sampling import SamplePlan, sample_size

if TYPE_CHECKING:
    from detente.analysis.export import SitesArg

__all__ = [
    "ComparisonResult",
    "SamplePlan",
    "Settings",
        "compare_regimes",
    "detection_probability",
    "miss_probability",
    "sample_size",
    "write_comparison",
]


def write_comparison(sites: SitesArg, out_dir: Path, settings: Settings | None = None) -> ComparisonResult:
    """The regime comparison written to `out_dir` (table, PNG and SVG plot, JSON); `sites` is a
    sites YAML path, Site records or parsed mappings. Imports matplotlib only when called."""
    from detente.analysis.export import write_comparison as run

    return run(sites, out_dir, settings)
