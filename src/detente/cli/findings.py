"""Rich rendering of findings for the terminal. Plain data in, a table out; no logic of its own."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from detente.compliance.findings import Finding

STYLE = {"compliant": "green", "violation": "bold red", "unverified": "yellow", "not_applicable": "dim"}
LABEL = {
    "compliant": "compliant",
    "violation": "VIOLATION",
    "unverified": "unverified",
    "not_applicable": "n/a",
}


def _num(v: float | int | None) -> str:
    if v is None:
        return "—"
    return f"{v:,}" if isinstance(v, int) or float(v).is_integer() else f"{v:,.2f}"


def findings_table(findings: Sequence[Finding], title: str) -> Table:
    t = Table(title=title, show_lines=True, expand=True)
    t.add_column("obligation", overflow="fold", ratio=2)
    t.add_column("party", no_wrap=True)
    t.add_column("reading", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("value / bound", justify="right", no_wrap=True)
    t.add_column("explanation", overflow="fold", ratio=6)
    t.add_column("evidence", overflow="fold", ratio=1)
    for f in findings:
        ev = ", ".join(f"#{e.index}" for e in f.evidence[:4]) + (" …" if len(f.evidence) > 4 else "")
        status = Text(LABEL[f.status] + (" (hyp.)" if f.hypothetical else ""), style=STYLE[f.status])
        t.add_row(
            f"{f.agreement}: {f.obligation}\n[dim]{f.clause}[/]",
            f.party,
            f.interpretation or "agreed",
            status,
            f"{_num(f.value)} / {_num(f.bound)}",
            f.explanation,
            ev or "—",
        )
    return t


def print_findings(
    console: Console, findings: Sequence[Finding], title: str, checkpoint: dict[str, object] | None = None
) -> None:
    console.print(findings_table(findings, title))
    if checkpoint:
        console.print(
            f"evidence proven against checkpoint [bold]{checkpoint['origin']}[/] size "
            f"{checkpoint['size']}, root {checkpoint['root_hash']}",
            highlight=False,
        )
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.status] = counts.get(f.status, 0) + 1
    console.print("  ".join(f"[{STYLE[s]}]{LABEL[s]}: {n}[/]" for s, n in counts.items()))
