"""End to end through a real workspace: signed records in the log, `check()`, and evidence a reader
can verify alone: every cited entry's inclusion proof leads to the root of the named, operator-signed
checkpoint, and a tampered proof does not. Then the `detente check` command on the same workspace."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from compliance.helpers import SCENARIO, find, utc
from detente.agreement.loader import load_agreement
from detente.cli import app
from detente.compliance.check import CheckResult, check
from detente.compliance.findings import Finding
from detente.envelope.record import make_record
from detente.errors import ProofError, RecordRefused
from detente.log.merkle import leaf_hash, verify_inclusion
from detente.log.note import open_checkpoint
from detente.log.transparency import TransparencyLog
from detente.log.trust import operator_verifier
from detente.model.parties import Role
from detente.workspace import Workspace

ORIGIN = "detente.test/compliance"
NEW_START = SCENARIO / "agreements/new-start.yaml"
AEGIS = SCENARIO / "agreements/aegis-ashore-transparency.yaml"
AT = dt.date(2022, 3, 1)

US_HOLDINGS = [
    {"site": "malmstrom", "category": "ICBM", "count": 400, "attributes": {"deployed": True, "warheads": 1}},
    {"site": "kings-bay", "category": "SLBM", "count": 220, "attributes": {"deployed": True, "warheads": 4}},
    {"site": "minot", "category": "heavy bomber", "count": 50, "attributes": {"deployed": True}},
    {"site": "malmstrom", "category": "ICBM launcher", "count": 454, "attributes": {}},
    {"site": "kings-bay", "category": "SLBM launcher", "count": 280, "attributes": {}},
    {"site": "minot", "category": "heavy bomber", "count": 16, "attributes": {"deployed": False}},
    {"site": "kings-bay", "category": "SLBM launcher", "count": 56, "attributes": {"status": "converted"}},
    {"site": "davis-monthan", "category": "heavy bomber", "count": 41, "attributes": {"status": "converted"}},
    {"site": "vandenberg", "category": "ICBM launcher", "count": 4, "attributes": {"status": "training"}},
    {"site": "deveselu", "category": "MK 41 launcher", "count": 3, "attributes": {}},
    {"site": "redzikowo", "category": "MK 41 launcher", "count": 3, "attributes": {}},
]


@dataclass
class World:
    ws: Workspace
    log: TransparencyLog
    append: Callable[[dt.datetime, str, str, dict[str, Any]], int]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("compliance-e2e")
    ws = Workspace.create(root / "ws", ORIGIN, operator_name="log.compliance.test")
    roles = frozenset({Role.DECLARANT, Role.INSPECTOR})
    for pid in ("US", "RU"):
        ws.add_party(pid, pid, roles=roles, witness_name=f"witness.{pid.lower()}.test")
    clock = [utc(2021, 9, 1)]
    log = ws.log(clock=lambda: clock[0])
    seq = {"US": 0, "RU": 0}
    keys = {p: ws.party_key(p) for p in seq}

    def append(at: dt.datetime, kind: str, party: str, body: dict[str, Any]) -> int:
        clock[0] = at
        seq[party] += 1
        env = make_record(kind, party, seq[party], body, keys[party], log=ORIGIN, signed_at=at)
        receipt = log.append(env.canonical())
        assert not isinstance(receipt, RecordRefused)
        return receipt.index

    append(utc(2021, 9, 20), "declaration", "US", {"as_of": "2021-09-01", "holdings": []})  # 0: on time
    append(utc(2021, 10, 15), "declaration", "RU", {"as_of": "2021-09-01", "holdings": []})  # 1: 14 days late
    append(utc(2022, 2, 20), "notification", "RU",  # 2: a movement on 1 Feb notified 19 days later
           {"event": "movement", "event_time": "2022-02-01T00:00:00Z"})
    append(utc(2022, 2, 25), "inspection-report", "RU",  # 3: Deveselu's MK 41 fire SM-3 only
           {"site": "deveselu", "inspected": "US",
            "configurations": [{"category": "MK 41 launcher", "can_launch": ["SM-3"]}]})
    append(utc(2022, 3, 20), "declaration", "US", {"as_of": "2022-03-01", "holdings": US_HOLDINGS})  # 4
    append(utc(2022, 3, 21), "statement", "RU", {"title": "noise", "text": "not a declaration"})  # 5
    return World(ws, log, append)


@pytest.fixture(scope="module")
def result(world: World) -> CheckResult:
    ags = [load_agreement(NEW_START), load_agreement(AEGIS)]
    return check(ags, world.ws.log(writable=False), AT, hypothetical=True)


def test_findings_at_the_date(result: CheckResult) -> None:
    fs = list(result.findings)
    us, ru = find(fs, "launchers", "US", "US"), find(fs, "launchers", "US", "RU")
    assert (us.status, us.value, us.bound) == ("compliant", 800, 800)
    assert (ru.status, ru.value, ru.bound) == ("violation", 901, 800)
    assert [e.index for e in us.evidence] == [4]
    assert find(fs, "deployed-delivery-vehicles", "US").value == 670
    assert find(fs, "deployed-warheads", "US").value == 400 + 880 + 50
    assert find(fs, "data-exchange", "US").status == "compliant"
    late = find(fs, "data-exchange", "RU")
    assert (late.status, late.value, [e.index for e in late.evidence]) == ("violation", 14, [1])
    moved = find(fs, "notify-changes", "RU")
    assert (moved.status, moved.value, [e.index for e in moved.evidence]) == ("violation", 1, [2])
    cap = find(fs, "aegis-launchers-not-tomahawk-capable", "US")
    # Deveselu verified by inspection; Redzikowo still presumed capable; and the whole rule is a
    # proposal evaluated as if in force, conditioned on reciprocal visits that nobody has refused
    assert (cap.status, cap.value, cap.hypothetical) == ("violation", 3, True)
    assert sorted(e.index for e in cap.evidence) == [3, 4]
    assert {b["site"]: b["banned"] for b in cap.items} == {"deveselu": [], "redzikowo": ["Tomahawk"]}
    assert not find(fs, "launchers", "US", "US").hypothetical
    assert result.malformed == ()


def test_every_cited_entry_is_proven_against_the_named_checkpoint(world: World, result: CheckResult) -> None:
    """A reader with the operator's public key, the checkpoint note, the entry's bytes and the proof
    checks each citation without trusting Détente's evaluator or database."""
    named = result.checkpoint
    scp = open_checkpoint(named["note"], operator_verifier(world.ws.registry()), ORIGIN)
    root = scp.checkpoint.root
    assert (scp.checkpoint.size, base64.b64encode(root).decode()) == (named["size"], named["root_hash"])
    assert named["size"] == 6
    cited = 0
    for f in result.findings:
        assert f.checkpoint == named
        for e in f.evidence:
            assert e.proof is not None
            leaf = world.log.leaf(e.index)
            lh = leaf_hash(leaf)
            assert e.leaf_hash == base64.b64encode(lh).decode()
            verify_inclusion(e.index, named["size"], lh, [base64.b64decode(p) for p in e.proof], root)
            cited += 1
    assert cited >= 8
    assert {e.index for f in result.findings for e in f.evidence} == {0, 1, 2, 3, 4}


def _proof(f: Finding) -> tuple[int, list[bytes]]:
    (e, *_) = f.evidence
    assert e.proof
    return e.index, [base64.b64decode(p) for p in e.proof]


def test_a_tampered_proof_or_entry_fails(world: World, result: CheckResult) -> None:
    size = result.checkpoint["size"]
    root = base64.b64decode(result.checkpoint["root_hash"])
    index, proof = _proof(find(list(result.findings), "launchers", "US", "RU"))
    lh = leaf_hash(world.log.leaf(index))
    verify_inclusion(index, size, lh, proof, root)
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    for bad_index, bad_leaf, bad_proof, bad_size in [
        (index, lh, flipped, size),  # one bit of one sibling hash
        (index, lh, proof[:-1], size),  # a proof cut short
        (index, lh, [*proof, proof[0]], size),  # a proof padded
        (index - 1, lh, proof, size),  # the right entry claimed at another index
        (index, leaf_hash(world.log.leaf(0)), proof, size),  # another entry's bytes
        (index, leaf_hash(world.log.leaf(index) + b" "), proof, size),  # the entry altered by one byte
        (index, lh, proof, size + 1),  # against a tree the checkpoint does not name
    ]:
        with pytest.raises(ProofError):
            verify_inclusion(bad_index, bad_size, bad_leaf, bad_proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, lh, proof, bytes(32))  # another root


def test_findings_are_fixed_to_their_checkpoint(world: World, result: CheckResult, tmp_path: Path) -> None:
    """Bitemporal: `known_at` cuts the log at a signing time. Before RU's late exchange was signed,
    the record shows none; the evidence still refers to the checkpoint, whose size has not moved."""
    ags = [load_agreement(NEW_START)]
    early = check(ags, world.ws.log(writable=False), dt.date(2021, 10, 14),
                  known_at=dt.datetime(2021, 10, 14, tzinfo=dt.UTC))
    f = find(list(early.findings), "data-exchange", "RU")
    assert f.status == "violation"
    assert "none is recorded" in f.explanation
    later = check(ags, world.ws.log(writable=False), dt.date(2021, 10, 14))
    f = find(list(later.findings), "data-exchange", "RU")
    assert (f.status, f.value) == ("violation", 14)  # known now: signed late
    assert early.checkpoint == later.checkpoint == result.checkpoint


# ------------------------------------------------------------------ the command


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_cli_check_json(world: World) -> None:
    res = _cli("check", str(NEW_START), str(AEGIS), "--workspace", str(world.ws.path), "--at", "2022-03-01",
               "--hypothetical", "--json")
    assert res.exit_code == 0, res.output
    findings = json.loads(res.stdout)
    assert isinstance(findings, list)
    assert len(findings) >= 10
    for f in findings:
        assert set(f) >= {"obligation", "party", "interpretation", "status", "value", "bound", "evidence",
                          "explanation", "clause", "checkpoint"}
        assert f["status"] in ("compliant", "violation", "unverified", "not_applicable")
        for e in f["evidence"]:
            assert isinstance(e["index"], int)
            assert e["inclusion_proof"] is not None
    key = ("launchers", "US", "RU")
    ru = [f for f in findings if (f["obligation"], f["party"], f["interpretation"]) == key]
    assert [(f["status"], f["value"], f["bound"]) for f in ru] == [("violation", 901, 800)]


def test_cli_check_table(world: World) -> None:
    res = _cli("check", str(NEW_START), "--workspace", str(world.ws.path), "--at", "2022-03-01")
    assert res.exit_code == 0, res.output
    assert "VIOLATION" in res.stdout
    assert "evidence proven against checkpoint" in res.stdout


@pytest.mark.parametrize(("args", "words"), [
    (("--at", "2022-02-30"), "--at '2022-02-30' is not a date"),
    (("--at", "yesterday"), "is not a date; write YYYY-MM-DD"),
    (("--at", "2022-03-01", "--known-at", "2022-03-01"), "--known-at"),
])
def test_cli_check_bad_dates_exit_2(world: World, args: tuple[str, ...], words: str) -> None:
    res = _cli("check", str(NEW_START), "--workspace", str(world.ws.path), *args, "--json")
    assert res.exit_code == 2
    out = json.loads(res.stdout)
    assert out["ok"] is False
    assert words in out["message"]


def test_cli_check_broken_agreement_exits_2_with_the_place(world: World) -> None:
    broken = Path(__file__).parents[1] / "agreement/broken/enum-typo.yaml"
    res = _cli("check", str(broken), "--workspace", str(world.ws.path), "--at", "2022-03-01", "--json")
    assert res.exit_code == 2
    out = json.loads(res.stdout)
    assert (out["ok"], out["error"]) == (False, "agreement")
    assert out["message"].startswith(f"{broken}:20:52: ")


def test_cli_check_not_a_workspace(tmp_path: Path) -> None:
    res = _cli("check", str(NEW_START), "--workspace", str(tmp_path), "--at", "2022-03-01")
    assert res.exit_code == 2
    assert "is not a Détente workspace" in res.stderr.replace("\n", "")  # rich wraps stderr at 80 columns
