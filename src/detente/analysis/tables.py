"""The comparison as text: a Markdown table for the report and a CSV for spreadsheets.

Pure functions from a ComparisonResult to strings; writing them is export.py's job.
"""

from __future__ import annotations

import csv
import io

from detente.analysis.compare import ComparisonResult


def largest_z(result: ComparisonResult) -> float | None:
    """The largest |Monte Carlo − exact| in standard errors over all points (None without MC).

    Points where the exact value is 0 or 1 have no sampling spread; there the simulator must hit
    the value exactly, and any miss is reported as infinite."""
    worst: float | None = None
    for c in result.curves:
        for exact, est in zip(c.exact, c.monte_carlo, strict=False):
            se = (exact * (1 - exact) / est.trials) ** 0.5
            if se == 0.0:
                z = 0.0 if abs(est.probability - exact) < 1e-12 else float("inf")
            else:
                z = abs(est.probability - exact) / se
            worst = z if worst is None else max(worst, z)
    return worst


def caption(result: ComparisonResult) -> str:
    s = result.settings
    kinds = ", ".join(sorted(set(result.site_kinds)))
    per = "one period" if s.periods == 1 else f"each of {s.periods} periods"
    return (f"P(at least one violation found) against the number of sites inspected in {per}: "
            f"{len(result.site_ids)} {s.party} sites ({kinds}), {s.violating} in violation, "
            f"an inspected violating site found with probability {s.detect_prob:g}.")


def markdown(result: ComparisonResult) -> str:
    head = ["quota", *(c.label for c in result.curves)]
    lines = [caption(result), "", "| " + " | ".join(head) + " |",
             "|" + "|".join(["---:"] * len(head)) + "|"]
    for i, q in enumerate(result.quotas):
        lines.append("| " + " | ".join([str(q), *(f"{c.exact[i]:.3f}" for c in result.curves)]) + " |")
    lines.append("")
    for c in result.curves:
        need = [f"{int(t * 100)}% needs {_quota(c.quota_for(t))}" for t in (0.5, 0.9)]
        lines.append(f"- {c.label}: the violator {c.violator}; {', '.join(need)}.")
    z = largest_z(result)
    if z is not None:
        lines.append(f"- Monte Carlo check ({result.settings.trials:,} seeded trials per point): every "
                     f"point within {z:.2f} standard errors of the exact value.")
    return "\n".join(lines) + "\n"


def _quota(q: int | None) -> str:
    return f"quota {q}" if q is not None else "more than every site"


def csv_text(result: ComparisonResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    header = ["quota"]
    for c in result.curves:
        header += [f"{c.key}_exact"] + ([f"{c.key}_mc", f"{c.key}_mc_se"] if c.monte_carlo else [])
    w.writerow(header)
    for i, q in enumerate(result.quotas):
        row: list[object] = [q]
        for c in result.curves:
            row.append(f"{c.exact[i]:.6f}")
            if c.monte_carlo:
                row += [f"{c.monte_carlo[i].probability:.6f}", f"{c.monte_carlo[i].std_err:.6f}"]
        w.writerow(row)
    return buf.getvalue()
