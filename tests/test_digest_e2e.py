"""The digest of a database filled by the real pipeline: feeds -> pages -> extraction -> mail.

Two local feeds carry the seed article (one under a tracking-parameter URL,
one under another URL with the same text); the real cycle polls, fetches,
reads, deduplicates and extracts it, and the digest sent to a real SMTP
server must show the stance, the money and one folded story with both sources.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from config.settings import Settings
from pipeline.daemon.process import run_cycle
from pipeline.daemon.scheduler import sync_feed_list
from pipeline.digest import send_digest
from storage.db import Database
from tests.support.paths import DATA
from tests.support.smtp import SMTPServer

RECIPIENT = "desk@example.org"


def _page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
    return (f"<html lang='en'><head><title>{html.escape(title)}</title></head><body>"
            f"<nav>Home | World</nav><article><h1>{html.escape(title)}</h1>{paragraphs}"
            f"</article><footer>Copyright</footer></body></html>")


def _rss(site, title: str, link: str) -> str:  # noqa: ANN001
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>{title}</title>"
            f"<link>{site.base}</link><item><title>NATO plan to take over Ukraine aid</title>"
            f"<link>{html.escape(link)}</link><guid>{html.escape(link)}</guid></item>"
            f"</channel></rss>")


def test_pipeline_to_inbox(db: Database, db_url: str, site, smtp_server: SMTPServer,  # noqa: ANN001
                           tmp_path):  # noqa: ANN001
    seed = (DATA / "articles" / "alliance-aid-plan.txt").read_text()
    page = _page("NATO plan to take over Ukraine aid", seed)
    site.route("/e2e/story.html", body=page, headers={"Content-Type": "text/html"})
    site.route("/e2e/copy.html", body=page, headers={"Content-Type": "text/html"})
    site.route("/e2e/wire.xml", body=_rss(site, "Wire", site.url("/e2e/story.html?utm_source=x")),
               headers={"Content-Type": "application/rss+xml"})
    site.route("/e2e/paper.xml", body=_rss(site, "Paper", site.url("/e2e/copy.html")),
               headers={"Content-Type": "application/rss+xml"})
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nname = "Wire"\nurl = "{site.url("/e2e/wire.xml")}"\n'
                     f'[[feed]]\nname = "Paper"\nurl = "{site.url("/e2e/paper.xml")}"\n')
    local_now = datetime.now(Settings().zone)
    at = local_now + timedelta(minutes=2)
    settings = Settings(
        database_url=db_url, feeds_file=feeds, allowed_networks=["127.0.0.0/8"],
        smtp_host="127.0.0.1", smtp_port=smtp_server.port, digest_to=[RECIPIENT],
        digest_time=at.time().replace(second=0, microsecond=0),
    )
    sync_feed_list(db, settings)
    stats = run_cycle(db, settings)
    assert stats.pages_fetched == 2 and stats.duplicates == 1 and stats.extracted == 1

    report = send_digest(db, settings, day=at.date())
    assert report.sent == (RECIPIENT,)
    [received] = smtp_server.messages
    text = received.parsed().get_body(("plain",)).get_content()
    assert "White House opposes Jens Stoltenberg" in text
    assert "pushback from the White House" in text
    assert "NATO -> Ukraine: $100 billion" in text
    stories = text.split("TOP STORIES", 1)[1]
    assert stories.count("NATO plan to take over Ukraine aid") == 1  # folded, not twice
    assert "Sources: Paper, Wire (1 duplicate folded)" in stories
    # The headline is its own sentence, not glued to the lead's.
    assert '"NATO plan to take over Ukraine aid NATO' not in text
