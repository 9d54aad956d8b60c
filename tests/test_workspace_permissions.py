"""Workspace.open refuses a workspace, or its secrets/ directory, that group or others can write
(whoever can write there can swap the registry or the keys), naming the path and `chmod go-w`;
and `detente init`, `detente demo`-style creation and key writing never make such directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import file_mode
from detente.cli import app
from detente.errors import ConfigError
from detente.model.parties import Role
from detente.workspace import Workspace

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
ORIGIN = "detente.test/perms"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace.create(tmp_path / "ws", ORIGIN)
    w.path.chmod(0o755)
    return w


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757, 0o770, 0o707, 0o1777])
@pytest.mark.parametrize("which", ["workspace", "secrets"])
def test_open_refuses_a_directory_others_can_write(ws: Workspace, mode: int, which: str) -> None:
    target = ws.path if which == "workspace" else ws.secrets
    target.chmod(mode)
    with pytest.raises(ConfigError) as info:
        Workspace.open(ws.path)
    assert info.value.code == "permissions"
    assert f"chmod go-w {target}" in info.value.message
    assert str(target) in info.value.message
    target.chmod(file_mode(target) & ~0o022)  # what `chmod go-w`, the fix the message names, does
    assert Workspace.open(ws.path).registry().origin == ORIGIN


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o700, 0o555])
def test_open_accepts_directories_only_the_owner_can_write(ws: Workspace, mode: int) -> None:
    ws.path.chmod(mode)
    try:
        assert Workspace.open(ws.path).registry().origin == ORIGIN
    finally:
        ws.path.chmod(0o755)


def test_cli_refuses_a_world_writable_workspace(ws: Workspace) -> None:
    ws.secrets.chmod(0o777)
    res = CliRunner().invoke(app, ["party", "US", "--workspace", str(ws.path), "--json"])
    assert res.exit_code != 0
    assert f"chmod go-w {ws.secrets}" in res.output
    assert "US" not in ws.registry().parties


def test_init_under_umask_0_makes_a_workspace_open_accepts(tmp_path: Path, umask0: None) -> None:
    w = tmp_path / "new"
    res = CliRunner().invoke(app, ["init", "--workspace", str(w), "--origin", ORIGIN])
    assert res.exit_code == 0, res.output
    assert file_mode(w) & 0o022 == 0
    assert file_mode(w / "secrets") == 0o700
    assert file_mode(w / "secrets" / "operator.key") == 0o600
    res = CliRunner().invoke(app, ["party", "US", "--workspace", str(w), "--witness-name", "w.us.test"])
    assert res.exit_code == 0, res.output
    assert file_mode(w / "secrets" / "US.key") == 0o600
    Workspace.open(w).operator_key()


def test_keys_written_into_a_new_secrets_directory_under_umask_0(tmp_path: Path, umask0: None) -> None:
    """Workspace.create makes secrets/ through write_private_key: 0700 whatever the umask."""
    (tmp_path / "ws").mkdir(mode=0o755)
    w = Workspace.create(tmp_path / "ws", ORIGIN)
    w.add_party("US", "US", roles=frozenset({Role.DECLARANT}), witness_name="w.us.test")
    assert file_mode(w.secrets) == 0o700
    assert {file_mode(f) for f in w.secrets.iterdir()} == {0o600}
    Workspace.open(w.path).party_key("US")
