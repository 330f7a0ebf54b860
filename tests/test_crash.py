"""Crash and restart: SIGKILL the daemon again and again; nothing is lost or done twice.

A real ``python -m pipeline run`` polls two overlapping feeds on the local
site whose pages answer slowly, so fetching and extracting both take long
enough to be interrupted. A seeded RNG picks, for each of the kills, the
stage to aim at (fetch or extract) and a delay after the database shows
progress in that stage. Each restart takes over the dead process's lease at
once (storage/lease.py). At the end the daemon runs to completion and the
result is compared with a clean, uninterrupted run on a separate database.

The helpers here (``DaemonProc``, ``register_feeds``, ``sqlite_counts``) are
shared with the other process-level tests (stop, contention).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import formatdate
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.support.site import EPOCH, Site

KILLS = 12
SEED = 20240808


# --- shared helpers -------------------------------------------------------------

def _date(hours_ago: int) -> str:
    return formatdate((EPOCH - timedelta(hours=hours_ago)).timestamp(), usegmt=True)


def register_feeds(site: Site, prefix: str, feeds: dict[str, list[str]],
                   page_delay: float = 0.0) -> dict[str, str]:
    """Serve ``/<prefix>/<name>.xml`` feeds over ``/<prefix>/p/<key>.html`` pages.

    Pages are the real benchmark pages, each answered after ``page_delay`` s;
    feeds carry ETag/Last-Modified, so a re-poll is a 304. Returns name -> URL.
    """
    for key in {k for keys in feeds.values() for k in keys}:
        html = site.page_html(key)
        site.route(f"/{prefix}/p/{key}.html", delay=page_delay,
                   handler=lambda req, html=html: req.send(200, html,
                                                           {"Content-Type": "text/html"}))
    urls = {}
    for name, keys in feeds.items():
        items = "".join(
            f"<item><title>{escape(key)}</title>"
            f"<link>{site.url(f'/{prefix}/p/{key}.html')}</link>"
            f"<guid isPermaLink='false'>urn:{prefix}:{name}:{key}</guid>"
            f"<pubDate>{_date(i)}</pubDate>"
            "</item>"
            for i, key in enumerate(keys)
        )
        body = (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                f"<title>{name}</title><link>{site.base}/</link>{items}</channel></rss>").encode()
        urls[name] = site.route(
            f"/{prefix}/{name}.xml",
            handler=lambda req, body=body: req.conditional(body, "application/rss+xml"))
    return urls


def feeds_toml(path: Path, urls: dict[str, str], interval: str = "1m") -> Path:
    path.write_text("".join(f'[[feed]]\nname = "{n}"\nurl = "{u}"\ninterval = "{interval}"\n\n'
                            for n, u in urls.items()))
    return path


def daemon_env(db_url: str, feeds_file: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "NEWSMON_DATABASE_URL": db_url, "NEWSMON_FEEDS_FILE": str(feeds_file),
           "NEWSMON_ALLOWED_NETWORKS": "127.0.0.0/8", "NEWSMON_SCHEDULER_TICK": "1s",
           "NEWSMON_LOG_LEVEL": "WARNING"}
    env.update({f"NEWSMON_{k.upper()}": v for k, v in extra.items()})
    return env


@dataclass
class DaemonProc:
    """A ``newsmon run`` subprocess with its stderr in a file (a pipe could fill and block)."""

    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run"], env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=err)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)  # reaped: a zombie would still look alive to the lease

    def stop(self, timeout: float = 60) -> tuple[int, float]:
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"daemon ignored SIGTERM for {timeout} s\n{self.stderr()}")
        return code, time.monotonic() - began

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(predicate: Callable[[], bool], timeout: float, daemon: DaemonProc | None = None,
               step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if daemon is not None and not daemon.alive():
            pytest.fail(f"daemon exited early ({daemon.proc.returncode}):\n{daemon.stderr()}")
        time.sleep(step)
    pytest.fail(f"condition not reached in {timeout} s"
                + (f"\n{daemon.stderr()[-3000:]}" if daemon else ""))


def lease_holder(path: Path) -> str | None:
    """Who holds the daemon lease, read like sqlite_counts (None before the schema exists)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
            row = conn.execute("SELECT holder FROM scheduler_lock").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def sqlite_counts(path: Path) -> dict[str, int]:
    """Articles per status, read with a plain connection (no migration, no lock held)."""
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM articles GROUP BY status").fetchall()
    except sqlite3.OperationalError:
        return {}  # schema not created yet
    return dict(rows)


# --- the crash test ----------------------------------------------------------------

def _analysis(path: Path) -> dict[str, tuple]:
    """URL -> (status, skip reason, mentions, amounts, stances, events) of one database."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT a.url, a.status, a.skip_reason,"
            " (SELECT COUNT(*) FROM mentions m WHERE m.article_id = a.id),"
            " (SELECT COUNT(*) FROM amounts m WHERE m.article_id = a.id),"
            " (SELECT COUNT(*) FROM stances m WHERE m.article_id = a.id),"
            " (SELECT COUNT(*) FROM events m WHERE m.article_id = a.id)"
            " FROM articles a").fetchall()
    return {url: tuple(rest) for url, *rest in rows}


def _stage(counts: dict[str, int]) -> str:
    if counts.get("pending"):
        return "fetch"
    return "extract" if counts.get("fetched") else "done"


def _kill_rounds(env: dict[str, str], db: Path, log: Path, rng: random.Random) -> list[str]:
    """Start, wait for progress in the aimed-at stage, SIGKILL; repeat. Returns the stages hit."""
    stages: list[str] = []
    for round_no in range(KILLS):
        before = sqlite_counts(db)
        if before and _stage(before) == "done":
            break
        aim = "fetch" if round_no < KILLS // 2 else "extract"
        done_key = "extracted" if aim == "extract" else None

        def progressed(before: dict[str, int] = before, aim: str = aim,
                       key: str | None = done_key) -> bool:
            now = sqlite_counts(db)
            if aim == "fetch" and now.get("pending") == 0:
                key = "extracted"  # fetching is over: aim at extraction instead
            if key is None:  # fetch: any page that left 'pending'
                return sum(now.values()) - now.get("pending", 0) > \
                    sum(before.values()) - before.get("pending", 0) or \
                    (not before and bool(now))
            return now.get(key, 0) > before.get(key, 0)

        daemon = DaemonProc(env, log)
        wait_until(progressed, timeout=90, daemon=daemon)
        time.sleep(rng.uniform(0.0, 1.0))
        stages.append(_stage(sqlite_counts(db)))
        daemon.kill()
    return stages


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path: Path, site: Site) -> None:
    keys = list(site.page_keys()[100:150])  # 50 pages; the feeds overlap on 20
    urls = register_feeds(site, "crash", {"a": keys[:35], "b": keys[15:]}, page_delay=0.25)
    feeds = feeds_toml(tmp_path / "feeds.toml", urls)
    db = tmp_path / "crash.db"
    env = daemon_env(f"sqlite:///{db}", feeds, extract_batch_size="4")
    rng = random.Random(SEED)

    stages = _kill_rounds(env, db, tmp_path / "crash.log", rng)
    print("kill stages:", stages)
    assert len(stages) >= 10, stages
    assert stages.count("fetch") >= 2 and stages.count("extract") >= 2, stages

    # Let it finish: no page left to fetch or analyse.
    final = DaemonProc(env, tmp_path / "crash.log")
    # Up and holding the lease first: a stop before Python has even started its
    # interpreter is death by signal, which says nothing about the daemon.
    wait_until(lambda: (lease_holder(db) or "").endswith(f":{final.proc.pid}"), timeout=60,
               daemon=final)
    wait_until(lambda: _stage(sqlite_counts(db)) == "done" and sum(sqlite_counts(db).values())
               == len(keys), timeout=120, daemon=final)
    code, _ = final.stop()
    assert code == 0, final.stderr()

    clean_db = tmp_path / "clean.db"
    clean = subprocess.run([sys.executable, "-m", "pipeline", "fetch", "--once"],
                           env=daemon_env(f"sqlite:///{clean_db}", feeds, extract_batch_size="4"),
                           capture_output=True, text=True, timeout=180)
    assert clean.returncode == 0, clean.stderr

    crashed, reference = _analysis(db), _analysis(clean_db)
    # Every page stored exactly once (the URL is unique) and none missing.
    assert sorted(crashed) == sorted(reference) == sorted(urls["a"].rsplit("/", 1)[0]
                                                          + f"/p/{k}.html" for k in keys)
    assert {v[0] for v in crashed.values()} <= {"extracted", "skipped"}
    # Every article analysed exactly once: the same rows per article as the clean run.
    assert crashed == reference
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT COUNT(*) FROM (SELECT article_id, start, \"end\", actor_id FROM mentions"
            " GROUP BY 1, 2, 3, 4 HAVING COUNT(*) > 1)").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM article_sources").fetchone() == (70,)
        assert conn.execute("SELECT SUM(n) FROM (SELECT COUNT(*) AS n FROM mentions)"
                            ).fetchone()[0] > 0  # the comparison compared something
        # No feed state lost and no feed stuck.
        feeds_state = conn.execute(
            "SELECT name, etag, last_polled, next_due, enabled, consecutive_errors, last_status"
            " FROM feeds").fetchall()
        lease = conn.execute("SELECT COUNT(*) FROM scheduler_lock").fetchone()
    assert len(feeds_state) == 2
    for name, etag, polled, due, enabled, errors, status in feeds_state:
        assert etag and polled and enabled and errors == 0 and status in (200, 304), name
        assert due > polled, name
    assert lease == (0,)  # the last, clean stop released it
