"""`detente demo`: the 2022 exchange as a log both parties can check, and what it shows.

The demo replays the record on a simulated clock (each record is signed and received at the date
it belongs to, so lateness is measured as it would have been): the New START data exchanges as of
1 September 2021 (aggregates) and 1 March 2022 (holdings, site by site, illustrative where only
aggregates are public), Russia's draft treaty and the United States' written response as signed
statements. The door refuses a replay and a forgery; both witnesses cosign; a bundle is exported
and verified offline. Then every scenario agreement is evaluated at 1 March 2022: New START as
the treaty in force, with both parties' readings of the launcher limit; the 2022 proposals as if
in force (marked hypothetical), since they never were.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from detente.agreement.loader import load_agreement
from detente.cli.findings import print_findings
from detente.codec import b64
from detente.compliance.check import check, read_disclosed
from detente.desk import Desk, disclose, open_log
from detente.envelope.record import make_record
from detente.errors import ConfigError, RecordRefused
from detente.fsutil import mkdir_with_mode
from detente.log.bundle import export_bundle, verify_bundle
from detente.log.cosign import collect_cosignatures
from detente.model.parties import Role
from detente.scenarios import agreement_files, declaration_bodies, proposal_files
from detente.workspace import Workspace

ORIGIN = "detente.example/2022-transparency"

EVALUATE_AT = dt.date(2022, 3, 1)

# New START aggregate data as of 1 September 2021: "As of Sept. 1, the United States has 1,389
# warheads deployed on 665 delivery vehicles, while maintaining 800 deployed and nondeployed ...
# launchers and heavy bombers. Russia has 1,458 warheads deployed on 527 delivery vehicles, in
# addition to 742" (Arms Control Association, Arms Control Today, December 2021,
# https://www.armscontrol.org/act/2021-12/news-briefs/russia-us-adhere-new-start-limits).
SEPT_2021 = {
    "US": {"deployed_delivery_vehicles": 665, "deployed_warheads": 1389, "launchers": 800},
    "RU": {"deployed_delivery_vehicles": 527, "deployed_warheads": 1458, "launchers": 742},
}
SEPT_2021_SOURCE = "https://www.armscontrol.org/act/2021-12/news-briefs/russia-us-adhere-new-start-limits"

# When each step is signed on the simulated clock (UTC).
T_SEPT_2021_EXCHANGE = dt.datetime(2021, 9, 29, 9, 0, tzinfo=dt.UTC)  # due within 30 days of 1 Sept
T_RU_DRAFT = dt.datetime(2021, 12, 17, 12, 0, tzinfo=dt.UTC)
T_US_RESPONSE = dt.datetime(2022, 1, 26, 18, 0, tzinfo=dt.UTC)
T_MARCH_2022_EXCHANGE = dt.datetime(2022, 3, 29, 9, 0, tzinfo=dt.UTC)  # due within 30 days of 1 March
T_ROUND = dt.datetime(2022, 4, 4, 9, 0, tzinfo=dt.UTC)  # the transparency round, as if agreed
ROUND_EVALUATED_AT = dt.date(2022, 4, 30)
AEGIS = "aegis-ashore-transparency"
NATO_DRAFT = "ru-nato-agreement-draft"

STATEMENTS: list[tuple[str, dict[str, Any]]] = [
    # Russia's draft treaty with the United States, published by the Russian MFA, 17 Dec 2021.
    ("RU", {"title": "Draft treaty on security guarantees", "date": "2021-12-17",
            "text": "Parties shall not deploy ground-launched intermediate- and shorter-range "
                    "missiles outside their national territories.",
            "source": "Russian MFA, draft Treaty between the USA and the Russian Federation on "
                      "security guarantees, 17 December 2021"}),
    # The US written response, 26 Jan 2022, as published by El País on 2 Feb 2022.
    ("US", {"title": "Written response: Aegis Ashore transparency mechanism", "date": "2022-01-26",
            "text": "A transparency mechanism to confirm the absence of Tomahawk cruise missiles "
                    "at Aegis Ashore sites in Romania and Poland, on condition of reciprocal "
                    "transparency measures on two ground-launched missile bases of our choosing "
                    "in Russia.",
            "source": "US non-paper of 26 January 2022, published by El País, 2 February 2022"}),
]


def run_demo(workspace: Path | None, console: Console | None) -> dict[str, Any]:
    root = workspace or Path(tempfile.mkdtemp(prefix="detente-demo-"))
    if (root / "keys.json").exists():
        raise ConfigError(f"{root} already holds a workspace; give the demo a new directory")
    say = console.print if console else (lambda *a, **k: None)
    say(f"[bold]Détente demo[/] — workspace {root}")

    mkdir_with_mode(root, 0o755)  # not group/world-writable whatever the umask (Workspace.open)
    ws = Workspace.create(root, ORIGIN, operator_name="log.detente.example")
    roles = frozenset({Role.DECLARANT, Role.INSPECTOR})
    ws.add_party("US", "United States of America", roles=roles, witness_name="witness.us.example")
    ws.add_party("RU", "Russian Federation", roles=roles, witness_name="witness.ru.example")
    # The log enforces the agreements' procedures (for the transparency mechanism: quota, notice,
    # the draw, the order of steps); the dashboard and the report evaluate the adopted agreements.
    for path in agreement_files("2022"):
        ws.adopt(path)
    # Russia's drafts of December 2021 and the U.S. answer, tracked as proposals under negotiation:
    # the report and the dashboard compare them and weigh them against the log's postures.
    for path in proposal_files("2022"):
        ws.propose(path)
    keys = {p: ws.party_key(p) for p in ("US", "RU")}
    clock = [T_SEPT_2021_EXCHANGE]
    log = open_log(ws, clock=lambda: clock[0])
    seq = {"US": 0, "RU": 0}

    def record(kind: str, party: str, body: dict[str, Any]) -> bytes:
        seq[party] += 1
        env = make_record(kind, party, seq[party], body, keys[party], log=ORIGIN, signed_at=clock[0])
        return env.canonical()

    def append(at: dt.datetime, records: list[tuple[str, str, dict[str, Any]]]) -> list[bytes]:
        clock[0] = at
        raw = [record(kind, party, body) for kind, party, body in records]
        for r in log.append_batch(raw):
            if isinstance(r, RecordRefused):
                raise r
        return raw

    say(f"replaying the record on a simulated clock, {T_SEPT_2021_EXCHANGE.date()} to "
        f"{T_MARCH_2022_EXCHANGE.date()}")
    append(T_SEPT_2021_EXCHANGE, [
        ("declaration", p, {"as_of": "2021-09-01", "sites": [], "aggregates": f,
                            "source": SEPT_2021_SOURCE}) for p, f in SEPT_2021.items()])
    for party, body in STATEMENTS:
        append(T_RU_DRAFT if party == "RU" else T_US_RESPONSE, [("statement", party, body)])
    # March 2022: each party commits to its holdings record by record (salted Merkle tree); the
    # log gets the root and the aggregates, the partner gets the full file and checks it.
    clock[0] = T_MARCH_2022_EXCHANGE
    decls = declaration_bodies("2022")
    desks = {p: Desk(ws, p, clock=lambda: clock[0], log=log) for p in ("US", "RU")}
    full_files, receipts = {}, {}
    for p, b in decls:
        seq[p] += 1
        receipts[p], full_files[p] = desks[p].declare(dt.date.fromisoformat(b["as_of"]), b["holdings"],
                                            sites=b["sites"], aggregates=b["aggregates"],
                                            source=b.get("source") or None)
    for p in ("US", "RU"):
        disclose(ws, full_files[p])  # in a real exchange: sent to the partner, checked on arrival
    holdings = sum(len(b["holdings"]) for _, b in decls)
    say(f"appended {log.size()} signed records; the 1 March 2022 declarations commit to "
        f"{holdings} holdings by Merkle root, and each partner verified the full file it received")

    # The door: a replayed record and a record forged in another party's name.
    size_before = log.size()
    refusals = []
    replay = log.append_batch([log.leaf(receipts["US"].index)])[0]
    forged_env = make_record("declaration", "US", 99, {"as_of": "2022-03-01", "holdings": []},
                             keys["RU"], log=ORIGIN, signed_at=clock[0])
    forged = log.append_batch([forged_env.canonical()])[0]
    for label, r in (("replayed US declaration", replay), ("RU signing as US", forged)):
        assert isinstance(r, RecordRefused)
        refusals.append({"attempt": label, "reason": r.code, "message": r.message})
        say(f"refused {label}: [yellow]{r.code}[/] — {r.message}", highlight=False)
    assert log.size() == size_before

    round_ = _transparency_round(ws, log, desks, clock, say)
    refusals += round_["refusals"]

    scp = collect_cosignatures(log, {p: ws.witness(p) for p in ("US", "RU")})
    say(f"checkpoint size {scp.checkpoint.size} cosigned by both witnesses")

    bundle = root / "bundle"
    export_bundle(ws.store(), ws.registry(), bundle)
    report = verify_bundle(bundle)

    agreements = [load_agreement(f) for f in agreement_files("2022")]
    in_force = {a.id for a in agreements if a.stage_at(EVALUATE_AT) == "in-force"}
    disclosed = read_disclosed(ws.disclosed)
    # one evaluation: the treaty in force as agreed, the proposals as if in force (hypothetical)
    at_march = check(agreements, log, EVALUATE_AT, hypothetical=True, disclosed=disclosed)
    treaty = [f for f in at_march.findings if f.agreement in in_force]
    what_if = [f for f in at_march.findings if f.agreement not in in_force]
    after_round = check([a for a in agreements if a.id == AEGIS], log, ROUND_EVALUATED_AT,
                        hypothetical=True, disclosed=disclosed, enforced=ws.agreements())
    findings = [*treaty, *what_if]
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.status] = counts.get(f.status, 0) + 1

    # How strong would the 2022 visits be? Detection probability against quota for the regimes.
    from detente.analysis import Settings, write_comparison
    from detente.analysis.sites import load_sites
    from detente.scenarios import OFFERED_QUOTAS, sites_file

    offered, label = OFFERED_QUOTAS["2022"]
    comparison = write_comparison(load_sites(sites_file("2022")), root / "analysis",
                                  Settings(scenario="2022", offered_quota=offered, offered_label=label))

    # Where Russia's drafts and the U.S. response meet, and what the drafts would change.
    from detente.negotiate import impact

    negotiation = _negotiation(ws, None)
    nato_draft = next(p for p in ws.proposals() if p.id == NATO_DRAFT)
    negotiation["impact"] = impact(nato_draft, ws, EVALUATE_AT).to_json()

    # The compliance report, as a government would publish it: HTML always, PDF where Chromium is.
    from detente.report.render import find_chromium, write_report

    reports = {"html": str(write_report(root, ROUND_EVALUATED_AT, root / "report.html")[0])}
    if find_chromium():
        reports["pdf"] = str(write_report(root, ROUND_EVALUATED_AT, root / "report.pdf")[0])

    summary = {
        "negotiation": negotiation,
        "reports": reports,
        "analysis": comparison.to_json(),
        "workspace": str(root),
        "entries": report.entries,
        "checkpoint": {"size": report.size, "root": b64(report.root), "note": scp.encode()},
        "cosigned_by": report.cosigned_by,
        "refusals": refusals,
        "bundle": str(bundle),
        "verification": report.to_json(),
        "evaluated_at": EVALUATE_AT.isoformat(),
        "findings": [f.to_json() for f in findings],
        "finding_counts": counts,
        "inspections": round_["inspections"],
        "round_evaluated_at": ROUND_EVALUATED_AT.isoformat(),
        "round_findings": [f.to_json() for f in after_round.findings],
    }
    (root / "demo-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if console:
        t = Table(title="New START data as of 1 March 2022, as declared (logged, signed)")
        for col in ("party", "deployed ICBMs, SLBMs, bombers", "deployed warheads", "launchers"):
            t.add_column(col, justify="right")
        for party, body in decls:
            a = body["aggregates"]
            t.add_row(party, *(str(a.get(k, "—")) for k in
                               ("deployed_delivery_vehicles", "deployed_warheads", "launchers")))
        console.print(t)
        console.print("[bold]checkpoint[/] (C2SP signed note):")
        console.print(scp.encode(), highlight=False, markup=False, soft_wrap=True)
        status = "[green]verified[/]" if report.ok else f"[red]FAILED[/]: {report.error}"
        console.print(f"offline verification of {bundle}: {status} — {report.entries} entries, "
                      f"cosigned by {', '.join(report.cosigned_by)}", highlight=False)
        print_findings(console, treaty, f"In force on {EVALUATE_AT}: findings, both readings",
                       at_march.checkpoint)
        print_findings(console, what_if,
                       f"The 2022 proposals, evaluated as if in force on {EVALUATE_AT} (hypothetical)")
        _print_round(console, round_["inspections"])
        print_findings(console, after_round.findings,
                       f"The transparency mechanism after one round, {ROUND_EVALUATED_AT} (hypothetical)",
                       after_round.checkpoint)
        console.rule("Negotiation: Russia's drafts of 17 December 2021 against the U.S. response")
        _negotiation(ws, console)
        from detente.cli.negotiate import print_impact

        print_impact(console, impact(nato_draft, ws, EVALUATE_AT))
        console.print(f"compliance report at {ROUND_EVALUATED_AT}: {', '.join(reports.values())}",
                      highlight=False)
        console.print(f"regime comparison (detection probability against quota): table and plots in "
                      f"{root / 'analysis'}", highlight=False)
    return summary


def _negotiation(ws: Workspace, console: Console | None) -> dict[str, Any]:
    """Where each draft and its answer meet, and where they do not."""
    from detente.negotiate import counterpart_pairs, diff

    out: dict[str, Any] = {}
    for a, b in counterpart_pairs(ws.proposals()):
        dd = diff(a, b)
        r = out[a.id] = {"versus": b.id, "in_both": [(x.a.id, x.b.id) for x in dd.both],
                         "related": [(x.id, y.id, how) for x, y, how in dd.related],
                         "only_first": [o.id for o in dd.only_a], "only_second": [o.id for o in dd.only_b]}
        if console:
            both = ", ".join(f"{x}≈{y}" for x, y in r["in_both"]) or "none"
            console.print(f"[bold]{escape(a.title)}[/] against [bold]{escape(b.title)}[/]: {len(dd.both)} "
                          f"rule(s) in both ({both}); {len(dd.related)} meeting in scope "
                          f"({', '.join(f'{x}~{y}' for x, y, _ in r['related']) or 'none'}); "
                          f"{len(dd.only_a)} only in the first ({', '.join(r['only_first']) or '—'}); "
                          f"{len(dd.only_b)} only in the second ({', '.join(r['only_second']) or '—'})",
                          highlight=False)
    return out


def _transparency_round(
    ws: Workspace, log: Any, desks: dict[str, Desk], clock: list[dt.datetime], say: Any
) -> dict[str, Any]:
    """One round of the 2022 mechanism, as if agreed: Russia visits Deveselu (challenge); the
    United States visits two Russian missile bases, one of its choosing and one drawn jointly.
    Each step is a signed record the log judges against the agreement's procedure. The teams'
    counts are simulated (they find what was declared), the 9M729's range is recorded as an
    ambiguity, since a visit cannot measure it."""
    from detente.desk import project

    us, ru = desks["US"], desks["RU"]
    ob_ru, ob_us = "russian-visits-to-aegis-ashore", "us-visits-to-russian-bases"

    def at(t: dt.datetime) -> None:
        clock[0] = t

    h = dt.timedelta(hours=1)
    at(T_ROUND)
    ru.request(AEGIS, ob_ru, "RU-2022-01", "challenge", T_ROUND + 48 * h, site="deveselu")
    at(T_ROUND + h)
    us.request(AEGIS, ob_us, "US-2022-01", "unilateral", T_ROUND + 49 * h, site="kamyshlov")
    us.request(AEGIS, ob_us, "US-2022-02", "joint-random", T_ROUND + 96 * h)
    us.commit("US-2022-02")
    at(T_ROUND + 3 * h)
    ru.commit("US-2022-02")
    at(T_ROUND + 4 * h)
    us.reveal("US-2022-02")
    ru.reveal("US-2022-02")
    drawn = project(ws, log).cases["US-2022-02"].site
    say(f"joint draw for US-2022-02: both parties committed, then revealed; the seed "
        f"SHA-256(r_US ‖ r_RU) drew [bold]{drawn}[/] from the four missile brigades")

    refusals = []
    size = log.size()
    attempts: list[tuple[str, Callable[[], object]]] = [
        ("a third US visit this year (quota 2)",
         lambda: us.request(AEGIS, ob_us, "US-2022-03", "unilateral", T_ROUND + 60 * h, site="shuya")),
        ("a Russian visit on 24 hours' notice (48 required)",
         lambda: ru.request(AEGIS, ob_ru, "RU-2022-02", "challenge", T_ROUND + 28 * h, site="redzikowo")),
        ("a US report on a site that was not selected",
         lambda: us.append("inspection-report", {"inspection": "US-2022-01", "site": "mozdok",
                                                 "inspected": "RU", "leader": "US team", "found": []})),
    ]
    for label, step in attempts:
        try:
            step()
        except RecordRefused as exc:
            refusals.append({"attempt": label, "reason": exc.code, "message": exc.message})
            say(f"refused {label}: [yellow]{exc.code}[/] — {exc.message}", highlight=False)
        else:
            raise AssertionError(f"the log accepted {label}")
    assert log.size() == size

    def visit(case_id: str, host: Desk, team: Desk, arrive: dt.datetime, leader: str,
              configurations: list[dict[str, Any]] | None = None) -> None:
        at(arrive)
        host.open_records(case_id)
        case = project(ws, log).cases[case_id]
        found: dict[str, int] = {}
        for r in case.opened:  # simulated: the team counts what the host declared
            found[r["category"]] = found.get(r["category"], 0) + int(r.get("count", 1))
        items = [{"category": c, "count": n} for c, n in sorted(found.items())]
        if case.site in ("deveselu", "redzikowo"):
            items.append({"category": "Tomahawk", "count": 0})
        at(arrive + 5 * h)
        team.report(case_id, leader=leader, found=items, configurations=configurations or [])
        at(arrive + 6 * h)
        host.countersign(case_id)

    visit("RU-2022-01", us, ru, T_ROUND + 48 * h, "RU inspection team leader",
          [{"category": "MK 41 launcher", "can_launch": ["SM-3"],
            "note": "no Tomahawk fire-control equipment or software found (simulated)"}])
    visit("US-2022-01", ru, us, T_ROUND + 49 * h, "US inspection team leader")
    at(T_ROUND + 56 * h)
    us.ambiguity("US-2022-01", "range of the 9M729",
                 "Russia declares 480 km; the United States assesses it above 500 km (the basis of its "
                 "2019 INF withdrawal). A visit counts missiles and launchers; it cannot measure range.")
    visit("US-2022-02", ru, us, T_ROUND + 96 * h, "US inspection team leader")
    cases = project(ws, log).cases
    say(f"transparency round: {len(cases)} inspections, each report countersigned by the host's escort")
    return {"inspections": [c.to_json() for c in cases.values()], "refusals": refusals}


def _print_round(console: Console, inspections: list[dict[str, Any]]) -> None:
    t = Table(title="The 2022 transparency mechanism, one round (simulated, as if agreed)")
    for col in ("inspection", "by → of", "method", "site", "status", "report entry"):
        t.add_column(col)
    for c in inspections:
        t.add_row(c["inspection"], f"{c['inspecting']} → {c['inspected']}", c["method"], c["site"] or "—",
                  c["status"], str(c["report"]))
    console.print(t)
