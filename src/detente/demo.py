"""`detente demo`: the 2022 exchange as a log both parties can check.

For now (the record layer) the demo sets up the United States and Russia with keys and witnesses,
logs the parties' New START aggregate data as of 1 March 2022 and the January 2022 proposals as
signed statements, shows the door refusing a replay and a forgery, has both witnesses cosign,
exports a bundle and verifies it offline. Later layers add the agreements, inspections, findings
and the report.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from detente.codec import b64
from detente.errors import ConfigError, RecordRefused
from detente.log.bundle import export_bundle, verify_bundle
from detente.log.cosign import collect_cosignatures
from detente.model.parties import Role
from detente.records import make_record
from detente.workspace import Workspace

ORIGIN = "detente.example/2022-transparency"

# New START aggregate data exchanged as of 1 March 2022, published by the US State Department,
# "New START Treaty Aggregate Numbers of Strategic Offensive Arms" (fact sheet, 1 April 2022).
NEW_START_2022_03_01 = {
    "US": {"deployed_launchers": 686, "deployed_warheads": 1515, "total_launchers": 800},
    "RU": {"deployed_launchers": 526, "deployed_warheads": 1474, "total_launchers": 761},
}
SOURCE = ("U.S. Department of State, New START Treaty Aggregate Numbers of Strategic Offensive "
          "Arms, as of March 1, 2022")

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

    ws = Workspace.create(root, ORIGIN, operator_name="log.detente.example")
    roles = frozenset({Role.DECLARANT, Role.INSPECTOR})
    ws.add_party("US", "United States of America", roles=roles, witness_name="witness.us.example")
    ws.add_party("RU", "Russian Federation", roles=roles, witness_name="witness.ru.example")
    keys = {p: ws.party_key(p) for p in ("US", "RU")}
    log = ws.log()
    now = datetime.now(UTC)
    seq = {"US": 0, "RU": 0}

    def record(kind: str, party: str, body: dict[str, Any]) -> bytes:
        seq[party] += 1
        env = make_record(kind, party, seq[party], body, keys[party], log=ORIGIN, signed_at=now)
        return env.canonical()

    submitted: list[bytes] = []
    for party, figures in NEW_START_2022_03_01.items():
        submitted.append(record("declaration", party, {
            "treaty": "New START", "as_of": "2022-03-01", "aggregates": figures, "source": SOURCE,
        }))
    for party, body in STATEMENTS:
        submitted.append(record("statement", party, body))
    receipts = log.append_batch(submitted)
    accepted = [r for r in receipts if not isinstance(r, RecordRefused)]
    say(f"appended {len(accepted)} signed records; each author holds a receipt "
        "(checkpoint + inclusion proof)")

    # The door: a replayed record and a record forged in another party's name.
    size_before = log.size()
    refusals = []
    replay = log.append_batch([submitted[0]])[0]
    forged_env = make_record("declaration", "US", 99, {"aggregates": {"deployed_warheads": 0}},
                             keys["RU"], log=ORIGIN, signed_at=now)
    forged = log.append_batch([forged_env.canonical()])[0]
    for label, r in (("replayed US declaration", replay), ("RU signing as US", forged)):
        assert isinstance(r, RecordRefused)
        refusals.append({"attempt": label, "reason": r.code, "message": r.message})
        say(f"refused {label}: [yellow]{r.code}[/] — {r.message}", highlight=False)
    assert log.size() == size_before

    scp = collect_cosignatures(log, {p: ws.witness(p) for p in ("US", "RU")})
    say(f"checkpoint size {scp.checkpoint.size} cosigned by both witnesses")

    bundle = root / "bundle"
    export_bundle(ws.store(), ws.registry(), bundle)
    report = verify_bundle(bundle)
    summary = {
        "workspace": str(root),
        "entries": report.entries,
        "checkpoint": {"size": report.size, "root": b64(report.root), "note": scp.encode()},
        "cosigned_by": report.cosigned_by,
        "refusals": refusals,
        "bundle": str(bundle),
        "verification": report.to_json(),
        "new_start_2022_03_01": NEW_START_2022_03_01,
    }
    (root / "demo-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if console:
        t = Table(title="New START aggregate data as of 1 March 2022 (logged, signed)")
        for col in ("party", "deployed launchers", "deployed warheads", "total launchers"):
            t.add_column(col, justify="right")
        for party, f in NEW_START_2022_03_01.items():
            t.add_row(party, str(f["deployed_launchers"]), str(f["deployed_warheads"]),
                      str(f["total_launchers"]))
        console.print(t)
        console.print("[bold]checkpoint[/] (C2SP signed note):")
        console.print(scp.encode(), highlight=False, markup=False, soft_wrap=True)
        status = "[green]verified[/]" if report.ok else f"[red]FAILED[/]: {report.error}"
        console.print(f"offline verification of {bundle}: {status} — {report.entries} entries, "
                      f"cosigned by {', '.join(report.cosigned_by)}", highlight=False)
    return summary
