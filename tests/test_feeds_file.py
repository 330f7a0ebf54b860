"""`newsmon feeds add|remove` edit the user's feeds file: comments stay with their feed,
a refused edit leaves the file byte-for-byte as it was, and the write is atomic."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.feeds import FeedSpec, add_feed, load_feeds, remove_feed
from config.settings import CONFIG_DIR

SHIPPED = CONFIG_DIR / "feeds.toml"

# A header, a comment block directly above each feed, a comment on a header line and
# one among the keys, a section comment between blank lines, and a footer.
ANNOTATED = """\
# Our feeds.
# Header, second line.

# About A.
[[feed]]  # A's header line
name = "A"
url = "https://a.example/rss"

# ---- section: wires ----

# About B, line 1.
# About B, line 2.
[[feed]]
name = "B"
# among B's keys
url = "https://b.example/rss"

# About C.
[[feed]]
name = "C"
url = "https://c.example/rss"
interval = "1h"

# Footer: add more feeds above.
"""


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.toml"
    shutil.copyfile(SHIPPED, path)
    return path


@pytest.fixture
def annotated(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(ANNOTATED, encoding="utf-8")
    return path


def names(path: Path) -> list[str]:
    return [spec.name for spec in load_feeds(path)]


def test_shipped_file_has_the_text_that_broke_the_old_split():
    # The header mentions "[[feed]]"; the old remove split the file on that text.
    assert "[[feed]]" in SHIPPED.read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize("position", [0, 1, -1])
def test_remove_from_the_shipped_file(shipped: Path, position: int):
    before = names(shipped)
    header = shipped.read_text(encoding="utf-8").split("\n\n", 1)[0]
    remove_feed(shipped, before[position])
    assert names(shipped) == [n for n in before if n != before[position]]
    text = shipped.read_text(encoding="utf-8")
    assert text.startswith(header + "\n\n[[feed]]\n")
    assert "\n\n\n" not in text and text.endswith('"]\n')


def test_add_then_remove_gives_back_the_shipped_file_byte_for_byte(shipped: Path):
    original = shipped.read_bytes()
    add_feed(shipped, FeedSpec("Reuters World", "https://example.org/reuters.rss", 900,
                               ("wire", "world")))
    assert names(shipped)[-1] == "Reuters World"
    assert load_feeds(shipped)[-1].interval_s == 900
    assert shipped.read_bytes().startswith(original + b"\n[[feed]]\n")
    remove_feed(shipped, "Reuters World")
    assert shipped.read_bytes() == original


def test_removing_a_feed_takes_its_comments_and_leaves_the_others(annotated: Path):
    remove_feed(annotated, "B")
    assert annotated.read_text(encoding="utf-8") == ANNOTATED.replace(
        "# About B, line 1.\n# About B, line 2.\n[[feed]]\nname = \"B\"\n"
        "# among B's keys\nurl = \"https://b.example/rss\"\n\n", "")
    assert names(annotated) == ["A", "C"]


def test_removing_the_first_feed_keeps_the_header(annotated: Path):
    remove_feed(annotated, "A")
    text = annotated.read_text(encoding="utf-8")
    assert text.startswith("# Our feeds.\n# Header, second line.\n\n# ---- section: wires ----\n"
                           "\n# About B, line 1.\n# About B, line 2.\n[[feed]]\nname = \"B\"\n")
    assert "About A" not in text and "A's header line" not in text
    assert names(annotated) == ["B", "C"]


def test_removing_the_last_feed_keeps_the_footer(annotated: Path):
    remove_feed(annotated, "C")
    text = annotated.read_text(encoding="utf-8")
    assert "About C" not in text and 'interval = "1h"' not in text
    assert text.endswith('url = "https://b.example/rss"\n\n# Footer: add more feeds above.\n')
    assert names(annotated) == ["A", "B"]


def test_comments_follow_their_feed_through_several_edits(annotated: Path):
    add_feed(annotated, FeedSpec("D", "https://d.example/rss", tags=("new",)))
    remove_feed(annotated, "A")
    remove_feed(annotated, "C")
    text = annotated.read_text(encoding="utf-8")
    assert names(annotated) == ["B", "D"]
    assert "# About B, line 2.\n[[feed]]\nname = \"B\"\n# among B's keys\n" in text
    assert "About A" not in text and "About C" not in text
    # The footer stays a footer: a blank line keeps it off the feed appended after it.
    assert "# Footer: add more feeds above.\n\n[[feed]]\nname = \"D\"\n" in text
    remove_feed(annotated, "D")
    assert "# Footer: add more feeds above.\n" in annotated.read_text(encoding="utf-8")


def test_unknown_feed_is_a_clear_error_and_the_file_is_untouched(shipped: Path):
    original = shipped.read_bytes()
    with pytest.raises(ConfigError) as err:
        remove_feed(shipped, "No Such Feed")
    assert str(shipped) in str(err.value) and "'No Such Feed'" in str(err.value)
    assert shipped.read_bytes() == original


@pytest.mark.parametrize("name", ["BBC World", "  BBC World "])
def test_a_duplicate_name_is_refused_without_changing_the_file(shipped: Path, name: str):
    original = shipped.read_bytes()
    with pytest.raises(ConfigError) as err:
        add_feed(shipped, FeedSpec(name, "https://example.org/other.rss"))
    assert str(shipped) in str(err.value) and "'BBC World'" in str(err.value)
    assert shipped.read_bytes() == original


@pytest.mark.parametrize(
    ("spec", "needle"),
    [(FeedSpec("Bad URL", "ftp://example.org/rss"), "key 'url'"),
     (FeedSpec("No host", "https:///rss"), "key 'url'"),
     (FeedSpec("Negative", "https://example.org/rss", interval_s=-5), "key 'interval'"),
     (FeedSpec("  ", "https://example.org/rss"), "key 'name'")],
)
def test_an_invalid_new_feed_is_refused_before_anything_is_written(
    shipped: Path, spec: FeedSpec, needle: str
):
    original = shipped.read_bytes()
    with pytest.raises(ConfigError) as err:
        add_feed(shipped, spec)
    assert str(shipped) in str(err.value) and needle in str(err.value)
    assert shipped.read_bytes() == original


def test_a_broken_file_is_not_edited(tmp_path: Path):
    path = tmp_path / "feeds.toml"
    path.write_text('[[feed]]\nname = "A"\nurl = "https://a.example/rss"\ncolour = 1\n')
    original = path.read_bytes()
    with pytest.raises(ConfigError, match="unknown key"):
        add_feed(path, FeedSpec("B", "https://b.example/rss"))
    with pytest.raises(ConfigError, match="unknown key"):
        remove_feed(path, "A")
    assert path.read_bytes() == original


def test_an_inline_feed_array_is_refused_with_a_reason(tmp_path: Path):
    path = tmp_path / "feeds.toml"
    path.write_text('feed = [{name = "A", url = "https://a.example/rss"}]\n')
    original = path.read_bytes()
    with pytest.raises(ConfigError, match=r"\[\[feed\]\]"):
        remove_feed(path, "A")
    assert path.read_bytes() == original


def test_the_write_replaces_the_file_and_keeps_its_permissions(shipped: Path):
    shipped.chmod(0o640)
    inode = shipped.stat().st_ino
    add_feed(shipped, FeedSpec("New", "https://example.org/new.rss"))
    # A new inode: the file was swapped in whole by a rename, not rewritten in place.
    assert shipped.stat().st_ino != inode
    assert stat.S_IMODE(shipped.stat().st_mode) == 0o640
    assert sorted(os.listdir(shipped.parent)) == ["feeds.toml"]  # no temporary file left


def test_a_symlinked_feeds_file_stays_a_link(tmp_path: Path, shipped: Path):
    link = tmp_path / "link.toml"
    link.symlink_to(shipped)
    remove_feed(link, "BBC World")
    assert link.is_symlink() and "BBC World" not in names(shipped)


def test_add_creates_a_missing_file_and_remove_needs_one(tmp_path: Path):
    path = tmp_path / "feeds.toml"
    add_feed(path, FeedSpec("A", "https://a.example/rss", 90, ("x",)))
    assert path.read_text(encoding="utf-8") == (
        '[[feed]]\nname = "A"\nurl = "https://a.example/rss"\ninterval = "90s"\ntags = ["x"]\n')
    with pytest.raises(ConfigError, match="does not exist"):
        remove_feed(tmp_path / "absent.toml", "A")


def test_windows_line_endings_survive_an_edit(tmp_path: Path):
    path = tmp_path / "feeds.toml"
    path.write_bytes(ANNOTATED.replace("\n", "\r\n").encode())
    remove_feed(path, "B")
    assert names(path) == ["A", "C"]
    assert b"# About C.\r\n[[feed]]\r\n" in path.read_bytes()
