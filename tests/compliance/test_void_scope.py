"""Evaluating one agreement never reports another agreement's lawful inspection steps as void.

The demo's log enforces four agreements and holds a full round of the Aegis Ashore mechanism.
Checking New START alone used to judge every step under New START only, and warn of 17 "void"
steps (unknown-agreement) that the log had accepted under the mechanism it enforces.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from detente.agreement.loader import load_agreement
from detente.cli import app
from detente.compliance.check import check
from detente.scenarios import agreement_files
from detente.workspace import Workspace

NEW_START = next(f for f in agreement_files("2022") if f.stem == "new-start")


def test_check_of_one_agreement_reports_no_void_steps(demo_ws: Path) -> None:
    ws = Workspace.open(demo_ws)
    log = ws.log(writable=False)
    alone = check([load_agreement(NEW_START)], log, dt.date(2022, 4, 30), enforced=ws.agreements())
    assert alone.void_steps == ()
    assert len(alone.inspections) == 3  # the round's inspections, as the log accepted them
    res = CliRunner().invoke(app, ["check", str(NEW_START), "--workspace", str(demo_ws),
                                   "--at", "2022-04-30"])
    assert res.exit_code == 0, res.output
    assert "void inspection step" not in res.output


def test_a_step_under_no_enforced_agreement_is_still_void(demo_ws: Path) -> None:
    """The fix widens what the steps are judged under to what the log enforces, no further: with
    nothing enforced, the round's steps are under no agreement the evaluation knows."""
    log = Workspace.open(demo_ws).log(writable=False)
    alone = check([load_agreement(NEW_START)], log, dt.date(2022, 4, 30))
    assert alone.void_steps
    reasons = {why.split(":")[0] for _, why in alone.void_steps}
    assert reasons == {"unknown-agreement", "no-request"}  # the requests, then the steps after them


def test_check_can_fail_a_ci_job_on_a_status(demo_ws: Path) -> None:
    """New START at 1 March 2022 holds one violation (the launcher limit under Russia's reading)."""
    base = ["check", str(NEW_START), "--workspace", str(demo_ws), "--at", "2022-03-01"]
    assert CliRunner().invoke(app, base).exit_code == 0  # findings are not, by themselves, a failure
    res = CliRunner().invoke(app, [*base, "--fail-on", "violation"])
    assert res.exit_code == 3, res.output
    assert "1 finding(s) with status violation" in res.output
    assert CliRunner().invoke(app, [*base, "--fail-on", "unverified"]).exit_code == 0
    bad = CliRunner().invoke(app, [*base, "--fail-on", "violations"])
    assert bad.exit_code == 2
    assert "--fail-on takes" in bad.output


def test_version_and_a_workspace_opened_from_a_string(demo_ws: Path) -> None:
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0
    assert res.output.startswith("detente ")
    assert Workspace.open(str(demo_ws)).path == Path(demo_ws)  # a notebook passes a str
