"""`detente negotiate diff|impact`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from detente.cliutil import DbOpt, JsonOpt, WorkspaceOpt, emit, fail, out, parse_at
from detente.errors import DetenteError

app = typer.Typer(no_args_is_help=True, help="Compare proposals and see what they would change.")


@app.command("diff")
def diff_cmd(
    a: Annotated[Path, typer.Argument(help="First agreement or proposal (YAML).")],
    b: Annotated[Path, typer.Argument(help="Second agreement or proposal (YAML).")],
    as_json: JsonOpt = False,
) -> None:
    """Rules in both (matched by meaning), only in one, reciprocal pairs, asymmetries, changed terms."""
    from detente.agreement.loader import load_agreement
    from detente.negotiate.diff import diff
    from detente.negotiate.render import print_diff

    try:
        d = diff(load_agreement(a), load_agreement(b))
    except DetenteError as exc:
        fail(exc, as_json, code=2)
    if as_json:
        emit(d.to_json())
    else:
        print_diff(out, d)


@app.command("impact")
def impact_cmd(
    proposal: Annotated[Path, typer.Argument(help="The proposal (YAML).")],
    workspace: WorkspaceOpt,
    at: Annotated[str, typer.Option("--at", help="The day it would enter into force (YYYY-MM-DD).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What would be in violation the day the proposal entered into force, per party, and what it
    would take: which sites and items must move, convert or be eliminated."""
    from detente.agreement.loader import load_agreement
    from detente.negotiate.impact import impact
    from detente.negotiate.render import print_impact
    from detente.workspace import Workspace

    try:
        imp = impact(load_agreement(proposal), Workspace.open(workspace, db), parse_at(at))
    except DetenteError as exc:
        fail(exc, as_json, code=2)
    if as_json:
        emit(imp.to_json())
    else:
        print_impact(out, imp)
