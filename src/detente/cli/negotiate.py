"""`detente negotiate diff | impact | propose`, and the terminal tables for a diff and an impact."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from detente.cli.options import AllowOutsideOpt, DbOpt, JsonOpt, WorkspaceOpt, emit, fail, out, parse_at
from detente.errors import DetenteError
from detente.negotiate.diff import Diff, describe
from detente.negotiate.impact import Impact

app = typer.Typer(no_args_is_help=True, help="Compare proposals and see what they would change.")


@app.command("diff")
def diff_cmd(
    a: Annotated[Path, typer.Argument(help="First agreement or proposal (YAML).")],
    b: Annotated[Path, typer.Argument(help="Second agreement or proposal (YAML).")],
    allow_include_outside: AllowOutsideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Rules in both (matched by meaning), only in one, reciprocal pairs, asymmetries, changed terms."""
    from detente.agreement.loader import load_agreement
    from detente.negotiate.diff import diff
    try:
        d = diff(load_agreement(a, allow_outside=allow_include_outside),
                 load_agreement(b, allow_outside=allow_include_outside))
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
    allow_include_outside: AllowOutsideOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What would be in violation the day the proposal entered into force, per party, and what it
    would take: which sites and items must move, convert or be eliminated."""
    from detente.agreement.loader import load_agreement
    from detente.negotiate.impact import impact
    from detente.workspace import Workspace

    try:
        imp = impact(load_agreement(proposal, allow_outside=allow_include_outside),
                     Workspace.open(workspace, db), parse_at(at))
    except DetenteError as exc:
        fail(exc, as_json, code=2)
    if as_json:
        emit(imp.to_json())
    else:
        print_impact(out, imp)

@app.command("propose")
def propose_cmd(
    proposal: Annotated[Path, typer.Argument(help="The proposal (YAML) to track in this workspace.")],
    workspace: WorkspaceOpt,
    allow_include_outside: AllowOutsideOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Track a proposal under negotiation: the report and the dashboard compare and weigh it."""
    from detente.workspace import Workspace

    try:
        ag = Workspace.open(workspace, db).propose(proposal, allow_outside=allow_include_outside)
    except DetenteError as exc:
        fail(exc, as_json, code=2)
    if as_json:
        emit({"ok": True, "proposal": ag.id, "title": ag.title, "files": list(ag.files)})
    else:
        out.print(f"{ag.id}: tracked as a proposal in {workspace}", highlight=False)


def print_diff(console: Console, d: Diff) -> None:
    console.print(f"[bold]{escape(d.a.title)}[/]\n  against [bold]{escape(d.b.title)}[/]", highlight=False)
    if d.empty:
        console.print("[green]no difference[/]: every rule matches, with the same terms")
    t = Table(title="In both (matched by meaning)", show_lines=True)
    for col in ("rule", f"{d.a.id}", f"{d.b.id}", "changed terms"):
        t.add_column(col)
    for x in d.both:
        ch = "; ".join(f"{c.term}: {c.a} → {c.b}" for c in x.changes) or "—"
        t.add_row(escape(describe(x.a)), escape(f"{x.a.id} ({x.a.clause})"),
                  escape(f"{x.b.id} ({x.b.clause})"), escape(ch))
    console.print(t)
    for title, obs in ((f"Only in {d.a.id}", d.only_a), (f"Only in {d.b.id}", d.only_b)):
        t = Table(title=title, show_lines=True)
        t.add_column("rule")
        t.add_column("clause")
        for o in obs:
            t.add_row(escape(describe(o)), escape(o.clause))
        console.print(t)
    if d.related:
        t = Table(title="Where the texts meet without saying the same thing", show_lines=True)
        for col in (d.a.id, d.b.id, "how"):
            t.add_column(col)
        for ra, rb, how in d.related:
            t.add_row(escape(f"{ra.id} ({ra.clause})"), escape(f"{rb.id} ({rb.clause})"), escape(how))
        console.print(t)
    if d.asymmetric:
        t = Table(title="Asymmetries (a rule binding one side, without its mirror)")
        t.add_column("agreement")
        t.add_column("rule")
        for ag_id, o in d.asymmetric:
            t.add_row(ag_id, escape(f"{o.id}: {describe(o)}"))
        console.print(t)
    for ag in (d.a, d.b) if d.a is not d.b else (d.a,):
        for u in ag.unmodelled:
            console.print(f"[dim]{ag.id}, not a rule over declared items ({escape(u.clause)}):[/] "
                          f"{escape(u.text)} [dim]— {escape(u.reason)}[/]", highlight=False)


def print_impact(console: Console, imp: Impact) -> None:
    rows = imp.by_party()
    t = Table(title=f"If {imp.proposal.title} entered into force on {imp.at}", show_lines=True)
    for col in ("party", "obligation", "status", "value / bound", "where", "what it would take"):
        t.add_column(col)
    for party, items in rows.items():
        for it in items:
            where = ", ".join(f"{s['site']} ({s['count']})" for s in it["sites"][:4]) or "—"
            reading = f" [{it['reading']}]" if it["reading"] != "agreed text" else ""
            t.add_row(party, escape(it["obligation"] + reading), it["status"],
                      f"{it['value']} / {it['bound']}", escape(where), escape(it["remedy"]))
    if not any(rows.values()):
        console.print(f"[green]nothing in the declared postures would breach {escape(imp.proposal.id)} "
                      f"on {imp.at}[/]")
    else:
        console.print(t)
