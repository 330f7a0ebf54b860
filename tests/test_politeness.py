"""Politeness: every request says who we are and how to reach the operator.

test_fetch.py checks the header of one Fetcher call; here the real command
(`newsmon fetch --once`) is configured the way operators configure it, by
environment, and every feed and page request it makes is inspected at the
server. robots.txt and the per-host limit are tested in test_fetch.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from config.settings import Settings
from pipeline.ingest.fetch import fetch_sync
from tests.support.site import Site

CONTACT = "https://research.example/newsmon-contact"


def test_daemon_requests_carry_the_contact_url(tmp_path: Path, site: Site) -> None:
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()
    page = site.page_html(site.page_keys()[11])

    def recorder(body: bytes, ctype: str):  # noqa: ANN202
        def handle(request) -> None:  # noqa: ANN001
            with lock:
                seen.append((request.path, request.headers.get("User-Agent", "")))
            request.send(200, body, {"Content-Type": ctype})
        return handle

    page_url = site.route("/polite/page.html", handler=recorder(page, "text/html"))
    feed = (f"<rss version='2.0'><channel><title>p</title><item><title>x</title>"
            f"<link>{page_url}</link></item></channel></rss>").encode()
    feed_url = site.route("/polite/feed.xml", handler=recorder(feed, "application/rss+xml"))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nname = "polite"\nurl = "{feed_url}"\n')
    env = {**os.environ, "NEWSMON_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
           "NEWSMON_FEEDS_FILE": str(feeds), "NEWSMON_ALLOWED_NETWORKS": "127.0.0.0/8",
           "NEWSMON_CONTACT_URL": CONTACT}
    run = subprocess.run([sys.executable, "-m", "pipeline", "fetch", "--once", "--no-extract"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert sorted(path for path, _ in seen) == ["/polite/feed.xml", "/polite/page.html"]
    for path, agent in seen:
        assert agent == f"newsmon/0.1 (+{CONTACT})", (path, agent)


def test_custom_user_agent_template_keeps_the_contact(site: Site) -> None:
    settings = Settings(allowed_networks=["127.0.0.0/8"], contact_url=CONTACT,
                        user_agent="UniLab-monitor/2 ({contact_url}; research use)")
    sent = json.loads(fetch_sync(site.url("/echo"), settings, kind="feed").body)
    assert sent["User-Agent"] == f"UniLab-monitor/2 ({CONTACT}; research use)"
