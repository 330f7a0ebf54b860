"""`newsmon browse`: the real Datasette server, read-only, with the cookbook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pipeline.cli import cli
from storage.db import open_database
from tests.support.proc import stop_process
from tests.support.rows import fill_realistic
from tests.support.smtp import free_port

NEWSMON = Path(sys.executable).with_name("newsmon")


def _get(base: str, path: str, **query: str) -> tuple[int, str]:
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        counts = {t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
                  for t in tables}
    engine.dispose()
    return counts


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("browse")
    url = f"sqlite:///{tmp / 'newsmon.db'}"
    db = open_database(url)
    fill_realistic(db)
    db.dispose()
    port = free_port()
    log = (tmp / "datasette.log").open("wb")  # a pipe nobody reads would block the server
    proc = subprocess.Popen([str(NEWSMON), "browse", "--port", str(port)],
                            env={**os.environ, "NEWSMON_DATABASE_URL": url},
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(base, "/-/versions.json")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = (tmp / "datasette.log").read_text(errors="replace")
                pytest.fail(f"datasette did not start: {out}")
            time.sleep(0.2)
        yield base, tmp
    finally:
        stop_process(proc, timeout=10)
        log.close()


def test_html_pages_and_view_json(served: tuple[str, Path]) -> None:
    base, _ = served
    status, html = _get(base, "/newsmon")
    assert status == 200 and "stances_v" in html and "Who opposed an actor" in html
    status, body = _get(base, "/newsmon/stances_v.json", _shape="array", cue="pushback")
    assert status == 200
    assert [(r["holder"], r["target"]) for r in json.loads(body)] == [
        ("White House", "Jens Stoltenberg")]


def test_canned_query_from_the_cookbook(served: tuple[str, Path]) -> None:
    base, _ = served
    status, html = _get(base, "/newsmon/opposition_to_actor")
    assert status == 200 and "target" in html
    status, body = _get(base, "/newsmon/opposition_to_actor.json", _shape="array",
                        target="Jens Stoltenberg", since="2024-08-01")
    assert status == 200
    assert {r["holder"] for r in json.loads(body)} == {"White House", "Viktor Orban"}


def test_nothing_can_be_written_or_attached(served: tuple[str, Path]) -> None:
    base, tmp = served
    url = f"sqlite:///{tmp / 'newsmon.db'}"
    before = _counts(url)
    escape = tmp / "escape.db"
    for sql in (f"ATTACH DATABASE '{escape}' AS e", f"VACUUM INTO '{escape}'",
                "DELETE FROM feeds", "UPDATE articles SET title = 'x'", "DROP TABLE feeds",
                "PRAGMA user_version = 5", "SELECT 1; DELETE FROM feeds"):
        status, body = _get(base, "/newsmon.json", sql=sql)
        assert status >= 400 or '"ok": false' in body, (sql, status, body[:200])
    # A canned query is not writable: a POST is not accepted as a write.
    req = urllib.request.Request(base + "/newsmon/failing_feeds", data=b"name=x", method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(req, timeout=10)
    assert not escape.exists()
    assert _counts(url) == before


def test_browse_refuses_postgresql_clearly() -> None:
    out = CliRunner().invoke(cli, ["browse"], env={
        "NEWSMON_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/whatever"})
    assert out.exit_code == 1
    assert "SQLite database files only" in out.output
