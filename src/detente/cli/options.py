"""What every `detente` command group shares: the consoles, JSON output, and how a refusal is shown.

One place, so every group prints errors the same way (markup escaped, piped output not wrapped at
80 columns) and exits with the same codes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from detente.errors import DetenteError

# Piped output (CI logs, files) gets a readable width rather than the 80-column default.
out = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

# Options every group spells the same way.
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", help="Workspace directory.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (default: DIR/log.db).")]


def parse_at(text: str) -> dt.date:
    """The date an --at option names."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DetenteError(f"--at {text!r} is not a date; write YYYY-MM-DD") from None


def emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def fail(exc: DetenteError, as_json: bool = False, code: int = 1) -> NoReturn:
    """Show a refusal (as JSON on stdout with --json, else on stderr) and exit with `code`."""
    if as_json:
        emit({"ok": False, "error": exc.code, "message": exc.message})
    else:
        err.print(f"[bold red]error[/] ({exc.code}): {escape(exc.message)}", highlight=False)
    raise typer.Exit(code)


#: Every verb that reads agreement files takes it: include: may then read outside the file's folder.
AllowOutsideOpt = Annotated[bool, typer.Option(
    "--allow-include-outside",
    help="Let include: read files outside the agreement's folder (trusted files only).")]
