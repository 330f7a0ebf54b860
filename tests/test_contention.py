"""Database contention: researchers query while the daemon writes; neither side sees a lock error.

The daemon (a real ``newsmon run``) polls 10 feeds over all 181 benchmark
pages and extracts them, so it writes for the whole window. Meanwhile a
second process runs researcher queries in a loop, alternating the read-only
path of ``newsmon sql`` (storage.readonly.run_query, a fresh connection per
query) and a long-lived SQLAlchemy connection as Datasette or a notebook
would hold. On SQLite that relies on WAL and busy_timeout (storage/db.py).

The window is 30 s per backend (the brief allowed shortening from 60 s to
keep the suite inside its CI budget); the daemon is still writing when it ends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.site import Site
from tests.test_crash import DaemonProc, daemon_env, feeds_toml, register_feeds, wait_until

WINDOW_S = 30
LOCK_WORDS = ("database is locked", "database table is locked", "could not serialize",
              "deadlock detected", "lock timeout", "Traceback", "cycle crashed", "cycle failed")

# Run in its own interpreter: argv = database URL, seconds. Prints a JSON summary.
READER = r'''
import json, sys, time
import sqlalchemy as sa
from storage.readonly import run_query
from storage.db import make_engine

url, seconds = sys.argv[1], float(sys.argv[2])
QUERIES = [
    "SELECT status, COUNT(*) FROM articles GROUP BY status",
    "SELECT actor, COUNT(*) AS n FROM actor_mentions_v GROUP BY actor ORDER BY n DESC LIMIT 20",
    "SELECT day, COUNT(*) FROM articles_v GROUP BY day ORDER BY day",
    "SELECT holder, polarity, COUNT(*) FROM stances_v GROUP BY holder, polarity",
    "SELECT currency, SUM(value) FROM amounts_v GROUP BY currency",
    "SELECT a.url, COUNT(m.id) FROM articles a LEFT JOIN mentions m ON m.article_id = a.id "
    "GROUP BY a.url ORDER BY 2 DESC LIMIT 10",
]
engine = make_engine(url)
done, errors, extracted = 0, [], []
conn = engine.connect()
end = time.monotonic() + seconds
while time.monotonic() < end:
    sql = QUERIES[done % len(QUERIES)]
    try:
        if done % 2:
            with conn.begin():
                conn.execute(sa.text(sql)).fetchall()
        else:
            run_query(url, sql, timeout=10, max_rows=1000)
        result = run_query(url, "SELECT COUNT(*) FROM articles WHERE status = 'extracted'",
                           timeout=10, max_rows=1)
        extracted.append(result.rows[0][0])
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}"[:300])
    done += 1
conn.close()
engine.dispose()
print(json.dumps({"queries": done, "errors": errors, "extracted": extracted}))
'''


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_readers_and_daemon_never_see_lock_errors(tmp_path: Path, site: Site,
                                                  db_url: str) -> None:
    keys = list(site.page_keys())
    feeds = {f"busy{i}": keys[i * 18:(i + 1) * 18] for i in range(10)}
    urls = register_feeds(site, "busy", feeds)
    # One local server stands in for ten hosts, so it gets ten hosts' connections.
    env = daemon_env(db_url, feeds_toml(tmp_path / "feeds.toml", urls),
                     extract_batch_size="8", per_host_connections="8")
    daemon = DaemonProc(env, tmp_path / "daemon.log")
    try:
        # Start the window once extraction is under way, so reads overlap its writes
        # however long fetching took on a busy machine.
        def started() -> bool:
            probe = subprocess.run(
                [sys.executable, "-c", READER, db_url, "0.01"],
                capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1])
            if probe.returncode != 0:
                return False
            out = json.loads(probe.stdout)
            return not out["errors"] and bool(out["extracted"]) and out["extracted"][-1] >= 1

        wait_until(started, timeout=150, daemon=daemon, step=0.5)
        reader = subprocess.run([sys.executable, "-c", READER, db_url, str(WINDOW_S)],
                                capture_output=True, text=True, timeout=WINDOW_S + 60,
                                cwd=Path(__file__).parents[1])
        assert daemon.alive(), daemon.stderr()
    finally:
        code, _ = daemon.stop()
    assert reader.returncode == 0, reader.stderr
    summary = json.loads(reader.stdout)
    assert summary["errors"] == []
    assert summary["queries"] >= 50, summary["queries"]
    seen = summary["extracted"]
    # The reads really overlapped the writes: the reader watched extraction advance.
    assert seen[-1] > seen[0], (seen[0], seen[-1])
    assert code == 0
    log = daemon.stderr()
    assert not [w for w in LOCK_WORDS if w in log], log[-3000:]
