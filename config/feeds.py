"""The researcher's feed list: ``config/feeds.toml``, one ``[[feed]]`` table each.

The file is the source of truth for which feeds exist; the database keeps
their poll state. A bad entry fails at start with the file, the entry number
and the key, because a silently skipped feed is a hole in someone's data.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from config.errors import ConfigError
from config.files import read_toml
from config.settings import parse_duration


@dataclass(frozen=True, slots=True)
class FeedSpec:
    name: str
    url: str
    interval_s: float | None = None  # None: settings.poll_interval
    tags: tuple[str, ...] = ()


_KEYS = {"name", "url", "interval", "tags"}


def _spec(entry: object, where: str) -> FeedSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: a feed must be a table with name and url")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    name, url = entry.get("name"), entry.get("url")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: key 'name' must be a non-empty string")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"{where}: key 'url' must be an http(s) URL, got {url!r}")
    if not urlsplit(url).hostname:
        raise ConfigError(f"{where}: key 'url' has no host: {url!r}")
    interval = entry.get("interval")
    try:
        interval_s = None if interval is None else parse_duration(interval)
    except ValueError as exc:
        raise ConfigError(f"{where}: key 'interval': {exc}") from exc
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ConfigError(f"{where}: key 'tags' must be a list of strings")
    return FeedSpec(name.strip(), url.strip(), interval_s, tuple(tags))


def load_feeds(path: Path) -> list[FeedSpec]:
    """Parse and validate the feed list; raise ConfigError naming file, entry and key."""
    data = read_toml(path, "feeds file", "NEWSMON_FEEDS_FILE")
    extra = set(data) - {"feed"}
    if extra:
        raise ConfigError(f"feeds file {path}: unknown top-level key(s) {sorted(extra)}")
    entries = data.get("feed", [])
    if not isinstance(entries, list):
        raise ConfigError(f"feeds file {path}: 'feed' must be an array of tables ([[feed]])")
    specs = [_spec(e, f"feeds file {path}, feed #{i + 1}") for i, e in enumerate(entries)]
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(f"feeds file {path}: duplicate feed name {spec.name!r}")
        seen.add(spec.name)
    return specs


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string for everything a feed name,
    # URL or tag contains (TOML accepts the same escapes).
    return json.dumps(value, ensure_ascii=False)


def format_feed(spec: FeedSpec) -> str:
    lines = ["[[feed]]", f"name = {_toml_str(spec.name)}", f"url = {_toml_str(spec.url)}"]
    if spec.interval_s is not None:
        lines.append(f'interval = "{int(spec.interval_s)}s"')
    lines.append("tags = [" + ", ".join(_toml_str(t) for t in spec.tags) + "]")
    return "\n".join(lines) + "\n"


def add_feed(path: Path, spec: FeedSpec) -> None:
    """Append a feed to the file, keeping the user's comments and layout."""
    specs = load_feeds(path) if Path(path).exists() else []
    if any(s.name == spec.name for s in specs):
        raise ConfigError(f"feeds file {path}: a feed named {spec.name!r} exists already")
    _spec({"name": spec.name, "url": spec.url, "tags": list(spec.tags)}, "new feed")
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else ""
    sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    Path(path).write_text(text + sep + format_feed(spec), encoding="utf-8")
    load_feeds(path)  # never leave a file behind that the daemon cannot start with


def remove_feed(path: Path, name: str) -> None:
    """Drop one ``[[feed]]`` table by name, keeping everything else as written."""
    specs = load_feeds(path)
    if not any(s.name == name for s in specs):
        raise ConfigError(f"feeds file {path}: no feed named {name!r}")
    blocks = Path(path).read_text(encoding="utf-8").split("[[feed]]")
    kept = [blocks[0]]
    for block in blocks[1:]:
        parsed = tomllib.loads("[[feed]]" + block)
        if parsed["feed"][0].get("name", "").strip() != name:
            kept.append(block)
    Path(path).write_text("[[feed]]".join(kept), encoding="utf-8")
    load_feeds(path)
