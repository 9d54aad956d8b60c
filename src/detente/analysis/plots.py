"""The comparison as a figure (PNG for reading, SVG for the report), drawn with matplotlib's Agg
renderer through `Figure` directly, so importing this module never changes the process-wide
pyplot backend that other parts of the program may use."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from detente.analysis.compare import ComparisonResult

STYLES = {
    "unilateral": ("#c0392b", "s", "-"),
    "joint-uniform": ("#1f5f99", "o", "-"),
    "joint-weighted": ("#6a8fc7", "D", "--"),
    "challenge": ("#2e8b57", "^", "-."),
}


def figure(result: ComparisonResult) -> Figure:
    fig = Figure(figsize=(7.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    quotas = list(result.quotas)
    for c in result.curves:
        color, marker, style = STYLES.get(c.key, ("#555555", "x", ":"))
        ax.plot(quotas, c.exact, color=color, marker=marker, linestyle=style, label=c.label)
        if c.monte_carlo:
            ax.errorbar(quotas, [e.probability for e in c.monte_carlo],
                        yerr=[1.96 * e.std_err for e in c.monte_carlo], fmt="none", ecolor=color,
                        elinewidth=1.0, capsize=3, alpha=0.7)
    s = result.settings
    offered = s.offered_quota
    if offered is not None and len(quotas) >= offered:  # a quota on the table, if the user named one
        ax.axvline(offered, color="#888888", linewidth=0.8, linestyle=":")
        ax.annotate(s.offered_label or f"offered: {offered}", (offered, 1.0), xytext=(4, -4),
                    textcoords="offset points", fontsize=8, color="#555555", va="top")
    ax.set_xlabel(f"quota: sites inspected per period (of {len(quotas)} {s.party} sites)")
    ax.set_ylabel("P(at least one violation found)")
    ax.set_title(f"{_plural(s.violating, 'violating site')}, an inspected violation found with "
                 f"probability {s.detect_prob:g}, {_plural(s.periods, 'period')}", fontsize=10)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(quotas)
    ax.grid(True, alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def write(result: ComparisonResult, stem: Path) -> dict[str, str]:
    """Write stem.png and stem.svg; returns {"png": path, "svg": path}."""
    fig = figure(result)
    out = {}
    with mpl.rc_context({"svg.hashsalt": "detente-analysis", "svg.fonttype": "none"}):
        for fmt in ("png", "svg"):
            path = stem.with_suffix(f".{fmt}")
            meta = {"Date": None} if fmt == "svg" else {"Software": None}
            fig.savefig(path, format=fmt, dpi=150, metadata=meta)
            out[fmt] = str(path)
    return out
