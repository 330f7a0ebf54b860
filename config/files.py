"""Reading the TOML files users edit, with errors that name the file and its setting."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from config.errors import ConfigError


def read_toml(path: Path, what: str, setting: str | None = None) -> dict[str, Any]:
    """Parse ``path``; a missing or malformed file raises ConfigError naming it.

    ``what`` names the file for people ("feeds file"); ``setting`` is the
    environment variable that points at it, so the message says how to fix it.
    """
    hint = f" (setting {setting})" if setting else ""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist{hint}") from exc
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc}{hint}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path}: not valid TOML: {exc}") from exc
