"""The `detente` command: every verb, its options, and what it prints.

- main.py — the Typer app and the verbs over the workspace and the log (`main` is the entry point);
- desk.py — `declare | disclose | notify | inspect …`, one party's verbs (over `detente.desk`);
- analysis.py — `analyze …`; negotiate.py — `negotiate …` and its tables; findings.py — the
  findings table; options.py — the option types and error output every group shares;
- demo.py — `detente demo`: the shipped 2022 scenario end to end (with `--scenario`, the only
  code that reads `detente.scenarios`).
"""

from detente.cli.main import app, main

__all__ = ["app", "main"]
