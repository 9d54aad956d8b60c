"""Durable small-file writes: write to a temporary file, fsync, rename, fsync the directory."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def mkdir_with_mode(path: Path, mode: int = 0o700) -> None:
    """Make `path` (and missing parents) if absent; a directory this call creates gets exactly
    `mode`, whatever the umask. An existing directory is left as it is (its owner chose)."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=mode)
    except FileExistsError:
        return  # made meanwhile by someone else: theirs to set
    os.chmod(path, mode)


def refuse_if_writable_by_others(path: Path, what: str) -> None:
    """Raise ConfigError if directory `path` is writable by group or others (mode & 0o022):
    whoever can write there can replace the keys or the registry it holds. POSIX only."""
    import stat

    from detente.errors import ConfigError

    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror}") from exc
    if mode & 0o022:
        raise ConfigError(
            f"the {what} {path} is writable by group or others (mode {mode:04o}), so anyone "
            f"there could replace its keys or registry; run `chmod go-w {path}` and try again",
            code="permissions",
        )
