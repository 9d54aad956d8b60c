"""What every `detente` command group shares: the consoles, JSON output, and how a refusal is shown.

One place, so every group prints errors the same way (markup escaped, piped output not wrapped at
80 columns) and exits with the same codes.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from detente.errors import DetenteError

# Piped output (CI logs, files) gets a readable width rather than the 80-column default.
out = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 150)


def emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def fail(exc: DetenteError, as_json: bool = False, code: int = 1) -> NoReturn:
    """Show a refusal (as JSON on stdout with --json, else on stderr) and exit with `code`."""
    if as_json:
        emit({"ok": False, "error": exc.code, "message": exc.message})
    else:
        err.print(f"[bold red]error[/] ({exc.code}): {escape(exc.message)}", highlight=False)
    raise typer.Exit(code)
