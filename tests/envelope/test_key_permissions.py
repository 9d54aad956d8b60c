"""Private key files others can read or write are refused, as OpenSSH refuses them, with the command
that fixes it; and the code that makes keys makes them (and their directory) private whatever the
umask."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import file_mode
from detente.envelope.keys import SigningKey, read_private_key, write_private_key
from detente.errors import ConfigError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture(autouse=True)
def _no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DETENTE_PASSPHRASE", raising=False)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o666, 0o620, 0o602, 0o610])
@pytest.mark.parametrize("passphrase", [None, b"pw"])
def test_key_readable_or_writable_by_others_is_refused(
    tmp_path: Path, mode: int, passphrase: bytes | None
) -> None:
    path = tmp_path / "key.pem"
    key = SigningKey.generate()
    write_private_key(path, key, passphrase)
    path.chmod(mode)
    with pytest.raises(ConfigError) as info:
        read_private_key(path, passphrase)
    assert info.value.code == "permissions"
    assert f"chmod 600 {path}" in info.value.message
    assert f"{mode:04o}" in info.value.message
    path.chmod(0o600)  # the fix the message names
    assert read_private_key(path, passphrase).public_key == key.public_key


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_owner_only_modes_are_accepted(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "key.pem"
    key = SigningKey.generate()
    write_private_key(path, key)
    path.chmod(mode)
    assert read_private_key(path).public_key == key.public_key


def test_write_private_key_makes_key_and_new_directory_private_under_umask_0(
    tmp_path: Path, umask0: None
) -> None:
    path = tmp_path / "new" / "dir" / "key.pem"
    write_private_key(path, SigningKey.generate())
    assert file_mode(path) == 0o600
    assert file_mode(path.parent) == 0o700
    read_private_key(path)


def test_write_private_key_leaves_an_existing_directory_alone(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    d.mkdir()
    d.chmod(0o750)
    write_private_key(d / "k.pem", SigningKey.generate())
    assert file_mode(d) == 0o750


def test_keygen_under_umask_0_makes_nothing_others_can_write(tmp_path: Path, umask0: None) -> None:
    from detente.cli import app

    out = tmp_path / "keys"
    res = CliRunner().invoke(app, ["keygen", "US", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert file_mode(out) == 0o700
    assert file_mode(out / "US.key") == 0o600
    assert file_mode(out / "US.pub.json") & 0o022 == 0
    assert json.loads((out / "US.pub.json").read_text())["party"] == "US"
    read_private_key(out / "US.key")
