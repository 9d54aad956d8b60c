"""The `detente` command end to end, through typer's CliRunner on detente.cli.app."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from detente.cli import app
from detente.envelope.dsse import parse_envelope
from detente.envelope.keys import read_private_key
from detente.errors import BadKeyError
from detente.log.note import NoteVerifier, SignedCheckpoint
from detente.log.receipt import Receipt, verify_receipt
from detente.model.parties import Registry
from detente.workspace import Workspace

ORIGIN = "detente.test/cli"


def run(*args: str, ok: bool = True, env: dict[str, str] | None = None) -> Result:
    res = CliRunner().invoke(app, list(args), env=env)
    if ok:
        assert res.exit_code == 0, (args, res.output, res.exception)
    return res


def flat(text: str) -> str:
    """Rich wraps long lines on the terminal it imagines; compare messages with spaces folded."""
    return " ".join(text.split())


def run_json(*args: str) -> Any:
    return json.loads(run(*args, "--json").stdout)


def _operator(ws: Path) -> tuple[NoteVerifier, str]:
    reg = Registry.from_json(json.loads((ws / "keys.json").read_text()))
    return NoteVerifier(reg.operator.note_name or "", reg.operator.public_key), reg.origin


# -- keygen --------------------------------------------------------------------------------------


def test_keygen_writes_a_0600_key_and_a_public_json(tmp_path: Path) -> None:
    out = tmp_path / "keys"
    data = run_json("keygen", "US", "--out", str(out))
    key, pub = out / "US.key", out / "US.pub.json"
    assert data["ok"] is True
    assert data["private_key_file"] == str(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    meta = json.loads(pub.read_text())
    assert meta["party"] == "US"
    assert sorted(meta["roles"]) == ["declarant", "inspector"]
    k = read_private_key(key)
    assert meta["keyid"] == k.keyid == data["keyid"]
    # A second keygen must not overwrite the private key.
    res = run("keygen", "US", "--out", str(out), ok=False)
    assert res.exit_code == 1
    assert "already exists" in flat(res.stderr)
    assert read_private_key(key).keyid == k.keyid


def test_keygen_json_names_the_public_key_file(tmp_path: Path) -> None:
    """`keygen --json` reports the two files it wrote. The public key file's path is set under
    "public_key" and must not be overwritten by the key's base64 (also "public_key" in the
    .pub.json contents merged into the same object)."""
    data = run_json("keygen", "US", "--out", str(tmp_path))
    assert str(tmp_path / "US.pub.json") in data.values(), data


def test_keygen_encrypt_with_passphrase_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DETENTE_PASSPHRASE", raising=False)
    out = tmp_path / "keys"
    data = json.loads(run("keygen", "RU", "--out", str(out), "--encrypt", "--json",
                          env={"DETENTE_PASSPHRASE": "correct horse"}).stdout)
    key = out / "RU.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    assert read_private_key(key, b"correct horse").keyid == data["keyid"]
    with pytest.raises(BadKeyError):
        read_private_key(key)  # no passphrase at all
    with pytest.raises(BadKeyError):
        read_private_key(key, b"wrong")
    monkeypatch.setenv("DETENTE_PASSPHRASE", "correct horse")
    assert read_private_key(key).keyid == data["keyid"]


def test_keygen_witness_key(tmp_path: Path) -> None:
    res = run("keygen", "US", "--out", str(tmp_path), "--role", "witness", ok=False)
    assert res.exit_code == 1
    assert "note-name" in flat(res.stderr)
    data = run_json("keygen", "US", "--out", str(tmp_path), "--role", "witness",
                    "--note-name", "witness.us.cli")
    assert data["roles"] == ["witness"]
    assert data["note_name"] == "witness.us.cli"
    assert (tmp_path / "US-witness.key").exists()
    assert (tmp_path / "US-witness.pub.json").exists()
    res = run("keygen", "us", "--out", str(tmp_path), ok=False)
    assert res.exit_code == 1
    assert "party id" in flat(res.stderr)


# -- a workspace built through the CLI -----------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace made with init; RU with keys generated in it, US with keys from keygen."""
    w = tmp_path / "ws"
    data = run_json("init", "--workspace", str(w), "--origin", ORIGIN)
    assert data["origin"] == ORIGIN
    assert data["operator_vkey"].startswith(ORIGIN + "+")
    assert stat.S_IMODE((w / "secrets" / "operator.key").stat().st_mode) == 0o600
    res = run("init", "--workspace", str(w), ok=False)
    assert res.exit_code == 1

    ru = run_json("party", "RU", "--workspace", str(w), "--name", "Russian Federation",
                  "--witness-name", "witness.ru.cli")
    assert ru["id"] == "RU"
    assert len(ru["keys"]) == 2

    keys = tmp_path / "us-keys"
    run("keygen", "US", "--out", str(keys))
    run("keygen", "US", "--out", str(keys), "--role", "witness", "--note-name", "witness.us.cli")
    us = run_json("party", "US", "--workspace", str(w), "--public-key", str(keys / "US.pub.json"),
                  "--public-key", str(keys / "US-witness.pub.json"))
    assert {k["keyid"] for k in us["keys"]} == {
        json.loads((keys / f).read_text())["keyid"] for f in ("US.pub.json", "US-witness.pub.json")
    }
    # The US witness runs on this machine too: its key goes where `log checkpoint` looks.
    shutil.copy(keys / "US-witness.key", w / "secrets" / "US-witness.key")
    reg = Registry.from_json(json.loads((w / "keys.json").read_text()))
    assert sorted(reg.parties) == ["RU", "US"]
    assert [p for p, _ in reg.witnesses()] == ["RU", "US"]
    return w


def _sign(ws: Path, party: str, body: dict[str, Any], *extra: str) -> Path:
    res = run("sign", "declaration", "--workspace", str(ws), "--as", party,
              "--body", json.dumps(body), *extra)
    env = json.loads(res.stdout)
    parse_envelope(env)
    path = ws.parent / f"{party}-{len(list(ws.parent.glob('*.dsse.json')))}.dsse.json"
    path.write_text(res.stdout)
    return path


def test_sign_and_append_returns_verifiable_receipts(ws: Path) -> None:
    keys = ws.parent / "us-keys"
    first = _sign(ws, "US", {"launchers": 700}, "--key", str(keys / "US.key"))
    second = _sign(ws, "RU", {"launchers": 500})
    data = run_json("log", "append", "--workspace", str(ws), str(first), str(second))
    assert [r["index"] for r in data] == [0, 1]
    operator, origin = _operator(ws)
    for r, f in zip(data, (first, second), strict=True):
        receipt = Receipt.from_json(r)
        leaf = parse_envelope(f.read_bytes()).canonical()
        scp = verify_receipt(receipt, leaf, operator, origin)
        assert scp.checkpoint.size == 2
    # The next signature picks the next sequence number by itself.
    third = _sign(ws, "US", {"launchers": 690}, "--key", str(keys / "US.key"))
    payload = json.loads(parse_envelope(third.read_bytes()).payload)
    assert payload["seq"] == 2
    assert payload["log"] == ORIGIN
    assert payload["author"] == "US"
    res = run("log", "append", "--workspace", str(ws), str(third))
    assert "index 2" in res.stdout


def test_refused_append_exits_1_with_the_reason(ws: Path) -> None:
    rec = _sign(ws, "RU", {"x": 1})
    run("log", "append", "--workspace", str(ws), str(rec))
    res = run("log", "append", "--workspace", str(ws), str(rec), ok=False)
    assert res.exit_code == 1
    assert "refused" in flat(res.stderr)
    assert "replay" in flat(res.stderr)
    res = run("log", "append", "--workspace", str(ws), str(rec), "--json", ok=False)
    assert res.exit_code == 1
    assert [r.get("refused") for r in json.loads(res.stdout)] == ["replay"]
    # RU's key signing as US: refused at the door as not-author.
    forged = _sign(ws, "US", {"x": 2}, "--key", str(ws / "secrets" / "RU.key"))
    res = run("log", "append", "--workspace", str(ws), str(forged), "--json", ok=False)
    assert res.exit_code == 1
    assert json.loads(res.stdout)[0]["refused"] == "not-author"
    # A mixed batch: the good one is appended, and the exit status still reports the refusal.
    good = _sign(ws, "RU", {"x": 3})
    res = run("log", "append", "--workspace", str(ws), str(good), str(rec), "--json", ok=False)
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out[0]["index"] == 1
    assert out[1]["refused"] == "replay"
    # Garbage from stdin.
    res = CliRunner().invoke(app, ["log", "append", "--workspace", str(ws), "-", "--json"],
                             input="not json")
    assert res.exit_code == 1
    assert json.loads(res.stdout)[0]["refused"] == "malformed"


def test_sign_refuses_a_body_that_is_not_json(ws: Path) -> None:
    res = run("sign", "declaration", "--workspace", str(ws), "--as", "RU", "--body", "{nope",
              ok=False)
    assert res.exit_code == 1
    assert "not JSON" in flat(res.stderr)


def _populate(ws: Path) -> None:
    files = [_sign(ws, "RU", {"n": 1}), _sign(ws, "US", {"n": 1}, "--key",
                                                   str(ws.parent / "us-keys" / "US.key"))]
    run("log", "append", "--workspace", str(ws), *map(str, files))
    run("log", "append", "--workspace", str(ws), str(_sign(ws, "RU", {"n": 2})))


def test_checkpoint_cosign_all_proof_export_and_verify(ws: Path, tmp_path: Path) -> None:
    _populate(ws)
    # Before any cosignature, verification with the default quorum (every witness) fails.
    res = run("log", "verify", str(ws), "--workers", "1", ok=False)
    assert res.exit_code == 1
    data = run_json("log", "checkpoint", "--workspace", str(ws), "--cosign", "all")
    assert data["size"] == 3
    assert sorted(data["cosigned_by"]) == ["witness.ru.cli", "witness.us.cli"]
    scp = SignedCheckpoint.parse(data["checkpoint"])
    assert scp.checkpoint.size == 3
    plain = run("log", "checkpoint", "--workspace", str(ws))
    assert plain.stdout == data["checkpoint"]

    operator, origin = _operator(ws)
    for index in range(3):
        r = Receipt.from_json(run_json("log", "proof", "--workspace", str(ws), str(index)))
        assert r.index == index
        store = Workspace.open(ws).store()
        try:
            leaf = store.entries(index, index + 1)[0].leaf
        finally:
            store.close()
        assert verify_receipt(r, leaf, operator, origin).checkpoint.size == 3
    r = Receipt.from_json(run_json("log", "proof", "--workspace", str(ws), "0", "--size", "2"))
    assert SignedCheckpoint.parse(r.checkpoint).checkpoint.size == 2
    res = run("log", "proof", "--workspace", str(ws), "7", ok=False)
    assert res.exit_code == 1

    out = tmp_path / "bundle"
    assert run_json("log", "export", "--workspace", str(ws), str(out))["entries"] == 3
    res = run("log", "export", "--workspace", str(ws), str(out), ok=False)
    assert res.exit_code == 1  # not into a non-empty directory

    ws_report = run_json("log", "verify", str(ws), "--workers", "1")
    assert ws_report["ok"] is True
    assert ws_report["entries"] == 3
    assert sorted(ws_report["cosigned_by"]) == ["RU", "US"]
    res = run("log", "verify", str(ws), "--workers", "1")
    assert "OK" in res.stdout
    b_report = run_json("log", "verify", str(out), "--workers", "1", "--keys", str(ws / "keys.json"))
    assert b_report["ok"] is True
    assert b_report["trusted_keys"] is True
    assert b_report["root"] == ws_report["root"]
    run("log", "verify", str(out))  # default: all cores

    # Break the bundle: verify exits 1 and names the leaf.
    lines = (out / "entries.jsonl").read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"sig":"', b'"sig":"AAAA', 1)
    (out / "entries.jsonl").write_bytes(b"\n".join(lines))
    res = run("log", "verify", str(out), "--workers", "1", ok=False)
    assert res.exit_code == 1
    assert "at leaf 2" in flat(res.stderr)


def test_verify_of_something_that_is_not_a_log(tmp_path: Path) -> None:
    res = run("log", "verify", str(tmp_path), ok=False)
    assert res.exit_code == 2
    assert "not a Détente workspace" in flat(res.stderr)


def test_demo_json(tmp_path: Path) -> None:
    res = run("demo", "--workspace", str(tmp_path / "demo"), "--json")
    summary = json.loads(res.stdout)
    assert summary["verification"]["ok"] is True
    # two exchanges of 2021, two statements, two committed declarations of March 2022, then the
    # transparency round: 3 requests, 2 commits, 2 reveals, 3 × (opening, report, countersign), 1 ambiguity
    assert summary["entries"] == 6 + 3 + 2 + 2 + 9 + 1
    assert [r["reason"] for r in summary["refusals"]] == ["replay", "not-author", "quota", "notice", "site"]
    # The round: Russia at Deveselu by challenge; the US at Kamyshlov by choice and at a drawn base.
    rounds = {c["inspection"]: c for c in summary["inspections"]}
    assert (rounds["RU-2022-01"]["site"], rounds["RU-2022-01"]["method"]) == ("deveselu", "challenge")
    assert (rounds["US-2022-01"]["site"], rounds["US-2022-01"]["method"]) == ("kamyshlov", "unilateral")
    assert rounds["US-2022-02"]["method"] == "joint-random"
    assert rounds["US-2022-02"]["site"] in rounds["US-2022-02"]["pool"]
    assert {c["status"] for c in summary["inspections"]} == {"countersigned"}
    hosts = {f["party"]: f for f in summary["round_findings"] if f["kind"] == "inspection"
             and f["party"] == ("US" if f["obligation"].startswith("russian") else "RU")}
    assert hosts["US"]["status"] == hosts["RU"]["status"] == "compliant"
    assert "range of the 9M729" in hosts["RU"]["explanation"]
    # Deveselu's launchers were verified; Redzikowo's, not visited, stay presumed capable.
    cap = next(f for f in summary["round_findings"]
               if f["obligation"] == "aegis-launchers-not-tomahawk-capable")
    assert (cap["status"], cap["value"]) == ("violation", 3)
    assert "none has been verified by inspection at redzikowo" in cap["explanation"]
    assert "verified the configuration at deveselu: not capable" in cap["explanation"]
    # The headline: the launcher dispute, both readings, at 1 March 2022.
    launchers = {(f["party"], f["interpretation"]): f for f in summary["findings"]
                 if f["agreement"] == "new-start" and f["obligation"] == "launchers"}
    assert (launchers[("US", "US")]["status"], launchers[("US", "US")]["value"]) == ("compliant", 800)
    assert (launchers[("US", "RU")]["status"], launchers[("US", "RU")]["value"]) == ("violation", 901)
    assert launchers[("RU", "RU")]["value"] == 761
    for f in summary["findings"]:
        assert {"obligation", "party", "interpretation", "status", "value", "bound", "evidence",
                "explanation"} <= set(f)
        if f["agreement"] != "new-start":
            assert f["hypothetical"] is True
        for e in f["evidence"]:
            assert e["inclusion_proof"] is not None
    assert sorted(summary["cosigned_by"]) == ["RU", "US"]
    assert sorted(summary["verification"]["cosigned_by"]) == ["RU", "US"]
    assert (tmp_path / "demo" / "demo-summary.json").exists()
    # The bundle it wrote verifies on its own, through the CLI too.
    run("log", "verify", summary["bundle"], "--workers", "1")
    run("log", "verify", summary["workspace"], "--workers", "1")
    # And it refuses to reuse a workspace.
    res = run("demo", "--workspace", str(tmp_path / "demo"), "--json", ok=False)
    assert res.exit_code == 1
    assert json.loads(res.stdout)["ok"] is False


def test_init_with_db_records_the_url(tmp_path: Path) -> None:
    """`init --db URL` remembers the URL (mode 0600: it may hold a password), so later verbs
    without --db reach the same database rather than a fresh SQLite file."""
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    w = tmp_path / "ws"
    run("init", "--workspace", str(w), "--origin", ORIGIN, "--db", url)
    assert (w / "db.url").read_text().strip() == url
    assert stat.S_IMODE((w / "db.url").stat().st_mode) == 0o600
    assert Workspace.open(w).url == url
    assert not (w / "log.db").exists()
    run("party", "US", "--workspace", str(w), "--witness-name", "witness.us.test")
    env = run("sign", "statement", "--workspace", str(w), "--as", "US", "--body", '{"text": "hi"}').stdout
    (tmp_path / "env.json").write_text(env)
    run("log", "append", "--workspace", str(w), str(tmp_path / "env.json"))
    run("log", "checkpoint", "--workspace", str(w), "--cosign", "all")
    run("log", "verify", str(w), "--workers", "1")
    assert not (w / "log.db").exists()
    assert (tmp_path / "elsewhere.db").exists()
