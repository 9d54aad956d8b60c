"""Findings at 80 columns: blocks, not a seven-column table, so no header or id is cut apart."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from rich.console import Console

from detente.cli.findings import TABLE_WIDTH, print_findings
from detente.compliance.check import check, read_disclosed
from detente.workspace import Workspace


def test_findings_read_whole_at_80_columns(demo_ws: Path) -> None:
    ws = Workspace.open(demo_ws)
    res = check(ws.agreements(), ws.log(writable=False), dt.date(2022, 3, 1), hypothetical=True,
                disclosed=read_disclosed(ws.disclosed), enforced=ws.agreements())
    buf = io.StringIO()
    print_findings(Console(file=buf, width=80, color_system=None), res.findings, "Findings", res.checkpoint)
    text = buf.getvalue()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = set(" ".join(lines).split())
    for f in res.findings:  # every obligation id and party reads whole, on one line
        assert any(f"{f.agreement}: {f.obligation}" in line for line in lines), f.obligation
    assert "evidence" in words  # not one letter per line
    wide = io.StringIO()
    print_findings(Console(file=wide, width=TABLE_WIDTH + 40, color_system=None), res.findings, "Findings")
    assert "┃" in wide.getvalue() or "│" in wide.getvalue()  # a wide terminal keeps the table
