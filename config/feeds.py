"""The researcher's feed list: ``config/feeds.toml``, one ``[[feed]]`` table each.

The file is the source of truth for which feeds exist; the database keeps
their poll state. A bad entry fails at start with the file, the entry number
and the key, because a silently skipped feed is a hole in someone's data.

``add_feed`` and ``remove_feed`` edit the file through tomlkit, so what the
user wrote stays as written. A comment block directly above a ``[[feed]]``
line (no blank line between) belongs to that feed and goes with it; the
comment block that opens the file is its header and stays, and so do comments
set apart by blank lines. The edited text is parsed back and validated as
``load_feeds`` does before it atomically replaces the file, so a refused edit
leaves the file byte for byte as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Comment, Item, Table, Whitespace

from config.errors import ConfigError
from config.files import parse_toml, read_text, read_toml, write_text_atomic
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
    return _check(read_toml(path, "feeds file", "NEWSMON_FEEDS_FILE"), path)


def _check(data: dict[str, Any], path: Path) -> list[FeedSpec]:
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


# --- editing the file ----------------------------------------------------


@dataclass(slots=True)
class _Entry:
    """One ``[[feed]]`` table with the comment block above it and the lines after it."""

    lead: list[Item]  # the comment block directly above the [[feed]] line
    table: Table  # the [[feed]] line and the keys, with any comments among them
    gap: list[Item]  # blank lines and loose comments up to the next entry's lead


@dataclass(slots=True)
class _Layout:
    """The file as its header and its entries: joined in order they give back the text."""

    header: list[Item]
    entries: list[_Entry]


def add_feed(path: Path, spec: FeedSpec) -> None:
    """Append a feed to the file (made if missing), keeping the user's comments and layout."""
    path = Path(path)
    fields = {"name": spec.name, "url": spec.url, "interval": spec.interval_s,
              "tags": list(spec.tags)}
    new = _spec(fields, f"feeds file {path}, new feed {spec.name!r}")
    text = _read_for_edit(path) if path.exists() else ""
    names = [s.name for s in _check(parse_toml(text, path, "feeds file"), path)]
    if new.name in names:
        raise ConfigError(f"feeds file {path}: a feed named {new.name!r} exists already")
    layout = _layout(text, path)
    _append(layout, _table(new))
    _write(path, layout, [*names, new.name], f"adding feed {new.name!r}")


def remove_feed(path: Path, name: str) -> None:
    """Drop one feed, with the comment block directly above it; everything else stays."""
    path = Path(path)
    text = _read_for_edit(path)
    names = [s.name for s in _check(parse_toml(text, path, "feeds file"), path)]
    if name.strip() not in names:
        raise ConfigError(f"feeds file {path}: no feed named {name!r} "
                          "(`newsmon feeds list` shows the names)")
    layout = _layout(text, path)
    _drop(layout, names.index(name.strip()))
    _write(path, layout, [n for n in names if n != name.strip()], f"removing feed {name!r}")


def _read_for_edit(path: Path) -> str:
    text = read_text(path, "feeds file", "NEWSMON_FEEDS_FILE")
    # Without a final newline a table appended later would start on the last line.
    return text if not text or text.endswith("\n") else text + "\n"


def _comment_block_start(items: list[Item]) -> int:
    """Index of the comment block that ends ``items`` (``len(items)`` if none)."""
    start = len(items)
    while start and isinstance(items[start - 1], Comment):
        start -= 1
    return start


def _layout(text: str, path: Path) -> _Layout:
    """Cut the document so that every comment block sits with the feed it describes.

    tomlkit files the lines between two tables under the first one; here the
    comment block directly above a ``[[feed]]`` line moves to that feed.
    """
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"feeds file {path}: not valid TOML for tomlkit: {exc}") from exc
    prefix: list[Item] = []
    tables: list[Table] = []
    for key, item in doc.body:
        if key is None and not tables:
            prefix.append(item)
        elif key is not None and key.key == "feed" and isinstance(item, AoT) and not tables:
            tables = list(item.body)
        else:
            raise ConfigError(f"feeds file {path}: newsmon can edit only comments and [[feed]] "
                              "tables; write the feeds as [[feed]] tables or edit it by hand")
    start = _comment_block_start(prefix)
    if start == 0:
        start = len(prefix)  # the comment block that opens the file is its header
    header, lead = prefix[:start], prefix[start:]
    entries = []
    for i, table in enumerate(tables):
        body = table.value.body
        items = [item for _, item in body]
        last_key = max((j for j, (key, _) in enumerate(body) if key is not None), default=-1)
        next_lead = len(items) if i == len(tables) - 1 else _comment_block_start(items)
        own = last_key + 1
        while own < next_lead and isinstance(items[own], Comment):
            own += 1  # a comment right under the last key is still this feed's
        entries.append(_Entry(lead, table, items[own:next_lead]))
        lead = items[next_lead:]
        del body[own:]
    layout = _Layout(header, entries)
    if _render(layout) != text:  # would reformat the user's file: refuse rather than guess
        raise ConfigError(f"feeds file {path}: newsmon cannot edit it without changing other "
                          "lines; edit it by hand")
    return layout


def _render(layout: _Layout) -> str:
    doc = tomlkit.document()
    doc.parsing(True)  # as if just parsed: tomlkit adds no blank lines of its own
    for item in layout.header + (layout.entries[0].lead if layout.entries else []):
        doc.add(item)
    bodies = []
    for i, entry in enumerate(layout.entries):
        after = entry.gap + (layout.entries[i + 1].lead if i + 1 < len(layout.entries) else [])
        body = entry.table.value.body
        bodies.append((body, len(body)))
        body.extend((None, item) for item in after)
    try:
        if layout.entries:
            doc.append("feed", AoT([e.table for e in layout.entries], parsed=True))
        return doc.as_string()
    finally:
        for body, size in bodies:  # the layout stays as it was: render is repeatable
            del body[size:]


def _append(layout: _Layout, table: Table) -> None:
    tail = layout.entries[-1].gap if layout.entries else layout.header
    if (layout.entries or tail) and not (tail and isinstance(tail[-1], Whitespace)):
        # A blank line: the last feed, a footer or the header stays apart from
        # the new feed instead of becoming the comment block above it.
        tail.append(tomlkit.ws("\n"))
    layout.entries.append(_Entry([], table, []))


def _drop(layout: _Layout, index: int) -> None:
    gone = layout.entries.pop(index)
    before = layout.entries[index - 1].gap if index else layout.header
    after = gone.gap
    at_end = index == len(layout.entries)
    if before and isinstance(before[-1], Whitespace) and (
        (after and isinstance(after[0], Whitespace)) or (at_end and not after)
    ):
        before.pop()  # the blank lines on both sides of the feed become one
    if index == 0 and not before:
        after = after[_first_not_blank(after):]  # no blank line opening the file
    elif index == 0 and layout.entries and layout.entries[0].lead and not after:
        # The header and the next feed's comments would touch and read as one header.
        after = [tomlkit.ws("\n")]
    before.extend(after)


def _first_not_blank(items: list[Item]) -> int:
    return next((i for i, item in enumerate(items) if not isinstance(item, Whitespace)),
                len(items))


def _table(spec: FeedSpec) -> Table:
    table = tomlkit.table()
    table.add("name", spec.name)
    table.add("url", spec.url)
    if spec.interval_s is not None:
        table.add("interval", _duration_text(spec.interval_s))
    table.add("tags", list(spec.tags))
    return table


def _duration_text(seconds: float) -> str:
    """900.0 -> "15m": the way people write intervals in this file."""
    if seconds != int(seconds):
        return f"{round(seconds * 1000)}ms"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _write(path: Path, layout: _Layout, expected: list[str], change: str) -> None:
    """Check the edited document as load_feeds would, and only then swap it in."""
    text = _render(layout)
    try:
        names = [s.name for s in _check(parse_toml(text, path, "feeds file"), path)]
    except ConfigError as exc:
        raise ConfigError(f"{exc} (after {change}); the file is left unchanged") from exc
    if names != expected:  # a fault of this module, never of the user's file
        raise ConfigError(f"feeds file {path}: {change} would also change other feeds "
                          f"({names} instead of {expected}); the file is left unchanged")
    write_text_atomic(path, text, "feeds file")
