"""The inspection verbs from the command line, one party per command, as two terminals would run
them against one workspace: every step with --json, refusals as JSON with their reason code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from detente.cli import app
from detente.scenarios import scenario_dir

AG = "aegis-ashore-transparency"


def cli(*args: str, ok: bool = True) -> Any:
    res = CliRunner().invoke(app, [*args, "--json"])
    assert (res.exit_code == 0) == ok, (args, res.output)
    return json.loads(res.stdout)


def workspace(tmp: Path) -> str:
    """A workspace adopting the Aegis Ashore mechanism with no notice period, so a round can run
    on the real clock (the tests of the procedure cover notice on a simulated one)."""
    src = scenario_dir("2022")
    d = tmp / "agreement"
    (d / "agreements").mkdir(parents=True)
    for f in ("vocabulary.yaml", "sites.yaml"):
        shutil.copy(src / f, d / f)
    text = (src / "agreements" / f"{AG}.yaml").read_text().replace("notice_hours: 48", "notice_hours: 0")
    (d / "agreements" / "aegis.yaml").write_text(text)
    w = str(tmp / "ws")
    cli("init", "--workspace", w, "--origin", "detente.test/cli-round")
    cli("party", "US", "--workspace", w, "--witness-name", "witness.us.test")
    cli("party", "RU", "--workspace", w, "--witness-name", "witness.ru.test")
    # its includes (../vocabulary.yaml) are outside its folder: adopted with the flag, which the
    # workspace remembers for every later verb that reloads it
    cli("agreement", "adopt", str(d / "agreements" / "aegis.yaml"), "--workspace", w,
        "--allow-include-outside")
    for party in ("US", "RU"):
        got = cli("declare", str(src / "declarations" / f"{party}-2022-03-01.yaml"), "--workspace", w)
        assert got["records"] > 0
        assert Path(got["full_declaration"]).stat().st_mode & 0o077 == 0  # the salts stay private
    return w


def test_a_round_from_two_terminals(tmp_path: Path) -> None:
    w = workspace(tmp_path)
    ru, us = ("--workspace", w, "--as", "RU"), ("--workspace", w, "--as", "US")
    cli("inspect", "request", AG, "russian-visits-to-aegis-ashore", *ru, "--id", "RU-1",
        "--method", "challenge", "--site", "deveselu", "--arrival", "+0h")
    assert cli("inspect", "open", "RU-1", *us)["site"] == "deveselu"
    cli("inspect", "report", "RU-1", *ru, "--leader", "RU team", "--found", "MK 41 launcher=3",
        "--found", "SM-3=24", "--found", "Tomahawk=0", "--config", "MK 41 launcher=SM-3")
    assert cli("inspect", "countersign", "RU-1", *us)["status"] == "countersigned"

    cli("inspect", "request", AG, "us-visits-to-russian-bases", *us, "--id", "US-1",
        "--method", "joint-random", "--arrival", "+0h")
    cli("inspect", "commit", "US-1", *us)
    cli("inspect", "commit", "US-1", *ru)
    cli("inspect", "reveal", "US-1", *ru)
    site = cli("inspect", "reveal", "US-1", *us)["site"]
    assert site in ("chernyakhovsk", "kamyshlov", "mozdok", "shuya")

    # refused, with the reason, and nothing written
    size = cli("inspect", "status", "--workspace", w)
    bad = cli("inspect", "reveal", "US-1", *us, ok=False)
    assert bad["ok"] is False
    assert bad["error"] == "duplicate"
    bad = cli("inspect", "request", AG, "us-visits-to-russian-bases", *us, "--id", "US-2",
              "--method", "unilateral", "--site", "nowhere", "--arrival", "+0h", ok=False)
    assert bad["error"] == "site"
    assert cli("inspect", "status", "--workspace", w) == size

    cli("inspect", "open", "US-1", *ru)
    cli("inspect", "report", "US-1", *us, "--leader", "US team", "--found", "GLCM=99")
    cli("inspect", "ambiguity", "US-1", *ru, "--subject", "count", "--text", "the team counted twice")
    st = cli("inspect", "status", "US-1", "--workspace", w)["inspections"][0]
    assert (st["status"], st["site"], len(st["ambiguities"])) == ("reported", site, 1)

    # the evaluator, through `detente check`, with the partner's declaration disclosed
    (full,) = (Path(w) / "private" / "US").glob("declaration-*.json")
    cli("disclose", str(full), "--workspace", w)
    agreement = str(tmp_path / "agreement" / "agreements" / "aegis.yaml")
    found = cli("check", agreement, "--workspace", w, "--at", "2099-01-01", "--hypothetical",
                "--allow-include-outside")
    host = {f["party"]: f for f in found if f["kind"] == "inspection"
            and f["party"] == f["details"]["inspected"]}
    # RU's opened records at the drawn site hold no 99 GLCMs: a discrepancy, whatever was drawn
    assert host["RU"]["status"] == "violation"
    assert "GLCM: found 99" in host["RU"]["explanation"]
    # and reciprocity: the US's own obligation to receive visits is suspended while RU is in breach
    assert host["US"]["status"] == "not_applicable"
    assert "suspended" in host["US"]["explanation"]
    assert "Unconditioned: compliant" in host["US"]["explanation"]

    env = CliRunner().invoke(app, ["inspect", "export", "RU-1", "--workspace", w])
    assert len(json.loads(env.stdout)["signatures"]) == 2


def test_notify(tmp_path: Path) -> None:
    w = workspace(tmp_path)
    got = cli("notify", "movement", "--workspace", w, "--as", "RU", "--event-time", "+1d",
              "--detail", "from=kamyshlov", "--detail", "to=kapustin-yar", "--item", "GLCM=16")
    assert got["ok"] is True
    from detente.compliance.projection import project_log
    from detente.workspace import Workspace

    log = Workspace.open(Path(w)).log(writable=False)
    (n,) = project_log(log.store, log.size()).notifications
    assert n.record.body["items"] == [{"category": "GLCM", "count": 16}]
    assert n.record.body["from"] == "kamyshlov"
    assert cli("notify", "parade", "--workspace", w, "--as", "RU", "--event-time", "+1d", ok=False)[
        "error"] == "inspection"
