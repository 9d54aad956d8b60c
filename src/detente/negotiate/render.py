"""Rich tables for a diff and an impact, and the demo's negotiation section."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from detente.agreement.loader import load_agreement
from detente.negotiate.diff import Diff, describe, diff
from detente.negotiate.impact import Impact


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


def demo_section(console: Console | None) -> dict[str, Any]:
    """Where Russia's drafts and the U.S. response meet, and where they do not (for `detente demo`)."""
    from detente.scenarios import scenario_dir

    d = scenario_dir("2022") / "proposals"
    us = load_agreement(d / "us-response-2022-01-26.yaml")
    out: dict[str, Any] = {}
    for name in ("ru-us-treaty-2021-12-17.yaml", "ru-nato-agreement-2021-12-17.yaml"):
        ru = load_agreement(d / name)
        dd = diff(ru, us)
        out[ru.id] = {"in_both": [(x.a.id, x.b.id) for x in dd.both],
                      "related": [(x.id, y.id, how) for x, y, how in dd.related],
                      "only_russia": [o.id for o in dd.only_a], "only_us": [o.id for o in dd.only_b]}
        if console:
            r = out[ru.id]
            both = ", ".join(f"{a}≈{b}" for a, b in r["in_both"]) or "none"
            console.print(f"[bold]{escape(ru.title)}[/] against the U.S. response: {len(dd.both)} rule(s) in "
                          f"both ({both}); {len(dd.related)} meeting in scope "
                          f"({', '.join(f'{a}~{b}' for a, b, _ in r['related']) or 'none'}); "
                          f"{len(dd.only_a)} only in Russia's draft "
                          f"({', '.join(r['only_russia']) or '—'}); {len(dd.only_b)} only in the U.S. "
                          f"response ({', '.join(r['only_us']) or '—'})", highlight=False)
    return out


def negotiation_view(ws: Any, at: Any) -> dict[str, Any]:
    """The shipped 2021–22 proposals: each Russian draft against the U.S. response, and what each
    text would change on the declared postures in `ws` at `at` (for the report and the dashboard)."""
    from detente.negotiate.impact import impact
    from detente.scenarios import scenario_dir

    d = scenario_dir("2022") / "proposals"
    texts = {p.stem: load_agreement(p) for p in sorted(d.glob("*.yaml"))}
    us = texts["us-response-2022-01-26"]
    diffs = [diff(a, us).to_json() for k, a in texts.items() if k.startswith("ru-")]
    impacts = [impact(a, ws, at).to_json() for a in texts.values()]
    return {"diffs": diffs, "impacts": impacts}
