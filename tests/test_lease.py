"""One daemon per database, even while a cycle runs longer than the lease.

Real `newsmon run` processes: the first one is kept busy fetching slow pages
for several lease lifetimes; a second one started meanwhile must be refused.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.support.proc import stop_process
from tests.test_daemon import daemon_env, start

TTL_S = 3
SLOW_S = 8
PAGES = 6  # 2 per host at a time: a cycle of about PAGES / 2 * SLOW_S = 24 s, 8 lease lifetimes


def _slow_feed(site) -> str:  # noqa: ANN001
    items = "".join(
        f"<item><title>slow {i}</title><link>{site.url(f'/slow?seconds={SLOW_S}&i={i}')}</link>"
        f"<guid>urn:slow:{i}</guid></item>" for i in range(PAGES))
    site.route("/lease/feed.xml", body=(f"<?xml version='1.0'?><rss version='2.0'><channel>"
                                        f"<title>slow</title>{items}</channel></rss>").encode(),
               headers={"Content-Type": "application/rss+xml"})
    return site.url("/lease/feed.xml")


@pytest.mark.timeout(240)
def test_second_daemon_is_refused_during_a_cycle_longer_than_the_lease(
        tmp_path: Path, site, sqlite_url: str) -> None:  # noqa: ANN001
    env = daemon_env(tmp_path, site, sqlite_url)
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nname = "slow"\nurl = "{_slow_feed(site)}"\ninterval = "1h"\n')
    env |= {"NEWSMON_LEASE_TTL": str(TTL_S), "NEWSMON_RESPECT_ROBOTS": "false"}
    first = start(env)
    try:
        deadline = time.monotonic() + 90
        while site.hits["/slow"] == 0:  # the first daemon's cycle is under way
            assert time.monotonic() < deadline, "the first daemon never fetched a page"
            assert first.poll() is None, first.stderr.read()
            time.sleep(0.2)
        time.sleep(TTL_S * 2)  # two lease lifetimes into the cycle
        hits_before = site.hits["/slow"]
        second = subprocess.run(first.args, env=env, capture_output=True, text=True, timeout=90)
        assert second.returncode != 0, "a second daemon ran beside the first"
        assert "another newsmon daemon" in second.stderr
        # The refusal came while the first was still inside its long cycle.
        assert site.hits["/slow"] < PAGES or hits_before < PAGES
        assert first.poll() is None
    finally:
        code = stop_process(first, timeout=60)
    assert code == 0
