"""Rich rendering of findings for the terminal. Plain data in, a table or blocks out; no logic.

A wide terminal gets a table; below `TABLE_WIDTH` columns a table of seven columns breaks words
and headers apart, so each finding is printed as a block instead: its rule and clause, one line
of party, reading, status and value, the explanation wrapped to the width, and the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from detente.compliance.findings import Finding

STYLE = {"compliant": "green", "violation": "bold red", "unverified": "yellow", "not_applicable": "dim"}
#: Narrower than this, findings print as blocks (a 7-column table cannot fit 80 columns).
TABLE_WIDTH = 110
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
        ev = _evidence(f)
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


def _evidence(f: Finding) -> str:
    return ", ".join(f"#{e.index}" for e in f.evidence[:4]) + (" …" if len(f.evidence) > 4 else "")


def print_blocks(console: Console, findings: Sequence[Finding], title: str) -> None:
    """One block per finding, for narrow terminals: nothing is cut mid-word."""
    console.print(Rule(escape(title)))
    for f in findings:
        label = LABEL[f.status] + (" (hyp.)" if f.hypothetical else "")
        console.print(f"[bold]{escape(f.agreement)}: {escape(f.obligation)}[/] [dim]{escape(f.clause)}[/]",
                      highlight=False)
        head = Text.assemble(f"  {f.party} · {f.interpretation or 'agreed'} · ", (label, STYLE[f.status]),
                             f" · {_num(f.value)} / {_num(f.bound)}")
        console.print(head, highlight=False)
        console.print(Padding(Text(f.explanation), (0, 0, 0, 2)), highlight=False)
        if f.evidence:
            console.print(f"  [dim]evidence {_evidence(f)}[/]", highlight=False)
        console.print()


def print_findings(
    console: Console, findings: Sequence[Finding], title: str, checkpoint: dict[str, object] | None = None
) -> None:
    if console.width >= TABLE_WIDTH:
        console.print(findings_table(findings, title))
    else:
        print_blocks(console, findings, title)
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
