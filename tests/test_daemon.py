"""The daemon as operators run it: a real `newsmon run` process against the local site."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import open_database
from storage.models import Article, Feed, Mention

STOP_BOUND_S = 45  # README: request_deadline (30 s) plus margin


def daemon_env(tmp_path: Path, site, db_url: str, n: int = 4) -> dict[str, str]:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(
        f'[[feed]]\nname = "site"\nurl = "{site.url(f"/feed/site.xml?n={n}&offset=40")}"\n'
        'interval = "1m"\n'
    )
    return {
        **os.environ,
        "NEWSMON_DATABASE_URL": db_url,
        "NEWSMON_FEEDS_FILE": str(feeds),
        "NEWSMON_ALLOWED_NETWORKS": "127.0.0.0/8",
        "NEWSMON_SCHEDULER_TICK": "1s",
        "NEWSMON_LOG_LEVEL": "INFO",
    }


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run"], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float = 120, proc: subprocess.Popen | None = None) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"daemon exited early: {proc.returncode}\n{proc.stderr.read()}")
        time.sleep(0.5)
    pytest.fail("condition not reached in time")


def counts(db_url: str) -> tuple[int, int, int]:
    db = open_database(db_url)
    try:
        with db.session() as s:
            return (
                s.scalar(select(func.count()).select_from(Article)),
                s.scalar(select(func.count()).select_from(Article)
                         .where(Article.status == "extracted")),
                s.scalar(select(func.count()).select_from(Mention)),
            )
    finally:
        db.dispose()


def stop(proc: subprocess.Popen[str]) -> tuple[int, float, str]:
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=STOP_BOUND_S + 15)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("daemon ignored SIGTERM")
    return proc.returncode, time.monotonic() - began, err


@pytest.mark.timeout(400)
def test_run_stop_restart_resumes_without_duplicates(tmp_path: Path, site, db_url: str):
    env = daemon_env(tmp_path, site, db_url)
    proc = start(env)
    wait_for(lambda: counts(db_url)[1] == 4, proc=proc)
    code, took, err = stop(proc)
    assert code == 0, err
    assert took < STOP_BOUND_S
    first = counts(db_url)

    db = open_database(db_url)
    with db.session() as s:
        feed = s.scalar(select(Feed))
        etag, polled = feed.etag, feed.last_polled
    db.dispose()
    assert etag  # validators survived the stop

    proc = start(env)
    time.sleep(6)  # several ticks: the feed is not due yet, nothing is fetched again
    code, _, err = stop(proc)
    assert code == 0, err
    assert counts(db_url) == first
    db = open_database(db_url)
    with db.session() as s:
        assert s.scalar(select(Feed.last_polled)) == polled  # resumed the schedule
    db.dispose()


@pytest.mark.timeout(300)
def test_second_daemon_refuses_to_start(tmp_path: Path, site, sqlite_url: str):
    env = daemon_env(tmp_path, site, sqlite_url, n=1)
    first = start(env)
    try:
        wait_for(lambda: counts(sqlite_url)[0] >= 1, proc=first)
        second = subprocess.run([sys.executable, "-m", "pipeline", "run"], env=env, text=True,
                                capture_output=True, timeout=120)
        assert second.returncode == 1
        assert "another newsmon daemon" in second.stderr
    finally:
        code, _, err = stop(first)
    assert code == 0, err


def test_bad_settings_fail_at_start_naming_the_key(tmp_path: Path):
    env = {**os.environ, "NEWSMON_POLL_INTERVAL": "often",
           "NEWSMON_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    proc = subprocess.run([sys.executable, "-m", "pipeline", "status"], env=env, text=True,
                          capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert "NEWSMON_POLL_INTERVAL" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_feeds_file_fails_at_start(tmp_path: Path, site):
    env = daemon_env(tmp_path, site, f"sqlite:///{tmp_path / 'x.db'}")
    Path(env["NEWSMON_FEEDS_FILE"]).write_text('[[feed]]\nname = "x"\nurl = "file:///etc/passwd"\n')
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run"], env=env, text=True,
                          capture_output=True, timeout=120)
    assert proc.returncode == 1
    assert "feed #1: key 'url'" in proc.stderr and env["NEWSMON_FEEDS_FILE"] in proc.stderr
