"""Reading and rewriting the TOML files users edit; errors name the file and its setting."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tomllib
from pathlib import Path
from typing import Any

from config.errors import ConfigError


def read_text(path: Path, what: str, setting: str | None = None) -> str:
    """The text of ``path`` exactly as stored (line endings kept, so an edit can keep them).

    ``what`` names the file for people ("feeds file"); ``setting`` is the
    environment variable that points at it, so the message says how to fix it.
    """
    hint = f" (setting {setting})" if setting else ""
    try:
        return Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist{hint}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc}{hint}") from exc


def parse_toml(text: str, path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path}: not valid TOML: {exc}") from exc


def read_toml(path: Path, what: str, setting: str | None = None) -> dict[str, Any]:
    """Parse ``path``; a missing or malformed file raises ConfigError naming it."""
    return parse_toml(read_text(path, what, setting), path, what)


def write_text_atomic(path: Path, text: str, what: str) -> None:
    """Replace ``path`` by ``text`` so that a reader sees the old file or the new one, never half.

    The temporary file sits in the target's own directory because a rename is
    atomic only within one file system; it is fsynced before the rename so a
    crash cannot leave an empty file behind the new name. The file keeps its
    permission bits (a new one gets the umask's), and a symlink stays a link:
    its target is what gets replaced.
    """
    target = Path(path).resolve()
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be written: {exc}") from exc
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        # O_EXCL: never write through a file or link someone else put there.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        fd = os.open(tmp, flags, 0o600 if mode is not None else 0o666)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{what} {path} cannot be written: {exc}") from exc
    except BaseException:  # interrupted: no stray temporary file either
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable. Best effort: some systems (Windows) cannot
    # open a directory, and the new content is already safe on disk.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
