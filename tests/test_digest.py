"""The daily digest against a real SMTP server (aiosmtpd on 127.0.0.1).

Content, MIME structure, exactly-once across runs and restarts, retries that
never log a failure as sent, and feed content that is hostile: markup,
javascript: links, CR/LF aimed at the headers, control characters.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from config.settings import Settings, load_settings
from pipeline.cli import cli
from pipeline.digest import build_digest, digest_due, message_id, send_digest
from pipeline.errors import DigestError
from storage.db import Database, open_database
from storage.models import Actor, Article, DigestLog, Feed, Stance
from tests.support.rows import ANCHOR, DIGEST_DAY, fill_realistic
from tests.support.smtp import SMTPServer, free_port

RECIPIENT = "researcher@example.org"
HOSTILE_DAY = date(2024, 9, 2)
EVIL_TITLE = "<script>alert('x')</script> Budget\r\nBcc: victim@evil.example\x07\x1b[31m"


def _settings(db: Database, server: SMTPServer | None = None, **kw: object) -> Settings:
    return load_settings(
        database_url=db.engine.url.render_as_string(hide_password=False),
        smtp_host="127.0.0.1", smtp_port=server.port if server else free_port(),
        smtp_timeout=5, digest_to=kw.pop("digest_to", RECIPIENT), **kw,
    )


def _logged(db: Database) -> list[tuple[date, str]]:
    with db.session() as s:
        return [tuple(r) for r in s.execute(sa.select(DigestLog.day, DigestLog.recipient))]


@pytest.fixture
def filled(db: Database) -> Database:
    fill_realistic(db)
    return db


def test_digest_arrives_with_text_html_and_inline_chart(filled: Database,
                                                        smtp_server: SMTPServer) -> None:
    report = send_digest(filled, _settings(filled, smtp_server), day=DIGEST_DAY)
    assert report.sent == (RECIPIENT,)
    [received] = smtp_server.messages
    assert received.rcpt_tos == [RECIPIENT]
    mail = received.parsed()
    assert mail["Message-ID"] == message_id(DIGEST_DAY, RECIPIENT)
    assert mail["Subject"] == ("newsmon digest 2024-08-08: "
                               "NATO chief proposes $100 billion fund for Ukraine")
    assert [p.get_content_type() for p in mail.walk()] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    image = next(p for p in mail.walk() if p.get_content_type() == "image/png")
    assert image.get_content().startswith(b"\x89PNG")
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    # Oppositions first, with the sentence; money with donor and recipient.
    assert ('White House opposes Jens Stoltenberg: "However, the plan has faced pushback '
            'from the White House, officials said."') in text
    assert text.index("White House opposes") < text.index("Germany supports Jens")
    assert "NATO -> Ukraine: $100 billion (USD 100,000,000,000 over 5 years)" in text
    assert "Germany -> Ukraine: €500 million" in text
    # The duplicate story is folded into one item listing its sources.
    assert text.count("NATO chief proposes $100 billion fund for Ukraine") == 1
    assert "Sources: BBC Europe, Kyiv Independent, Reuters World (1 duplicate folded)" in text
    assert "Stoltenberg's $100bn Ukraine plan" not in text
    assert '<a href="https://news.example/reuters/lead">' in html
    assert "Hungary (GPE): 1 mention, -70%" in text  # vs. the previous 7 days
    assert _logged(filled) == [(DIGEST_DAY, RECIPIENT)]


def test_exactly_once_across_runs_and_restarts(filled: Database, smtp_server: SMTPServer,
                                               db_url: str) -> None:
    settings = _settings(filled, smtp_server)
    send_digest(filled, settings, day=DIGEST_DAY)
    again = send_digest(filled, settings, day=DIGEST_DAY)
    assert again.sent == () and again.already_sent == (RECIPIENT,)
    restarted = open_database(db_url)  # a new process would open it like this
    try:
        assert send_digest(restarted, settings, day=DIGEST_DAY).sent == ()
        now = datetime(2024, 8, 8, 9, 0, tzinfo=timezone.utc)
        assert digest_due(restarted, settings, now) is None
    finally:
        restarted.dispose()
    assert len(smtp_server.messages) == 1
    assert smtp_server.handler.data_commands == 1


def test_crash_before_logging_resends_with_the_same_message_id(
        filled: Database, smtp_server: SMTPServer) -> None:
    settings = _settings(filled, smtp_server)
    send_digest(filled, settings, day=DIGEST_DAY)
    with filled.transaction() as s:  # what a crash between accept and commit leaves
        s.execute(sa.delete(DigestLog))
    send_digest(filled, settings, day=DIGEST_DAY)
    ids = {m.parsed()["Message-ID"] for m in smtp_server.messages}
    assert len(smtp_server.messages) == 2 and ids == {message_id(DIGEST_DAY, RECIPIENT)}


def test_transient_refusals_are_retried_then_logged(filled: Database,
                                                    smtp_server: SMTPServer) -> None:
    smtp_server.handler.refuse_next[:] = ["451 4.3.0 try again later"] * 2
    report = send_digest(filled, _settings(filled, smtp_server), day=DIGEST_DAY, backoff=0.01)
    assert report.sent == (RECIPIENT,)
    assert smtp_server.handler.data_commands == 3 and len(smtp_server.messages) == 1
    assert _logged(filled) == [(DIGEST_DAY, RECIPIENT)]


@pytest.mark.parametrize("replies", [["451 4.3.0 busy"] * 3, ["554 5.7.1 rejected"]])
def test_failures_are_bounded_and_never_logged(filled: Database, smtp_server: SMTPServer,
                                               replies: list[str]) -> None:
    smtp_server.handler.refuse_next[:] = replies * 2
    with pytest.raises(DigestError, match="SMTP refused"):
        send_digest(filled, _settings(filled, smtp_server), day=DIGEST_DAY, attempts=3,
                    backoff=0.01)
    # 4xx: every attempt used; 5xx: permanent, not retried.
    assert smtp_server.handler.data_commands == (3 if replies[0][0] == "4" else 1)
    assert smtp_server.messages == [] and _logged(filled) == []
    assert digest_due(filled, _settings(filled, smtp_server),
                      datetime(2024, 8, 8, 6, 0, tzinfo=timezone.utc)) == DIGEST_DAY


def test_closed_port_retries_and_records_nothing(filled: Database) -> None:
    settings = _settings(filled)  # a port nobody listens on
    with pytest.raises(DigestError):
        send_digest(filled, settings, day=DIGEST_DAY, attempts=2, backoff=0.01)
    assert _logged(filled) == []


def test_digest_due_after_the_time_until_logged(filled: Database,
                                                smtp_server: SMTPServer) -> None:
    settings = _settings(filled, smtp_server)  # 07:00 Europe/Brussels = 05:00 UTC in August
    before = datetime(2024, 8, 8, 4, 59, tzinfo=timezone.utc)
    assert digest_due(filled, settings, before) is None
    assert digest_due(filled, settings, ANCHOR) == DIGEST_DAY  # naive = UTC
    late = datetime(2024, 8, 8, 20, 0, tzinfo=timezone.utc)  # catch-up after downtime
    assert digest_due(filled, settings, late) == DIGEST_DAY
    send_digest(filled, settings, day=DIGEST_DAY)
    assert digest_due(filled, settings, late) is None


def _hostile(db: Database) -> None:
    start = datetime(2024, 9, 1, 12, 0)
    with db.transaction() as s:
        feed = s.scalars(sa.select(Feed).limit(1)).one()
        holder = s.scalars(sa.select(Actor).where(Actor.name == "White House")).one()
        sentence = "Officials <b>condemn</b> the plan\x0b\x1f <img src=x onerror=alert(1)>."
        art = Article(url="javascript:alert(document.cookie)", feed_id=feed.id,
                      title=EVIL_TITLE, discovered_at=start, published=start, status="extracted",
                      text=sentence, extracted_at=start, authors=[])
        s.add(art)
        s.flush()
        s.add(Stance(article_id=art.id, holder_id=holder.id, polarity="oppose",
                     target_text="</li><script>steal()</script>", cue="condemn",
                     sentence=sentence, sent_start=0, sent_end=len(sentence), start=14, end=21,
                     extractor_version="t"))


def test_hostile_feed_content_arrives_inert(filled: Database, smtp_server: SMTPServer) -> None:
    _hostile(filled)
    send_digest(filled, _settings(filled, smtp_server), day=HOSTILE_DAY)
    [received] = smtp_server.messages
    raw_headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in raw_headers and b"victim@evil" not in raw_headers.split(b"Subject")[0]
    mail = received.parsed()
    assert mail["Bcc"] is None and received.rcpt_tos == [RECIPIENT]
    assert "\r" not in mail["Subject"] and "\n" not in mail["Subject"]
    assert "\x07" not in mail["Subject"] and "\x1b" not in mail["Subject"]
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and "<b>condemn</b>" not in html
    assert 'href="javascript:' not in html.lower() and "href='javascript:" not in html.lower()
    assert "javascript:alert(document.cookie)" in html  # shown as text, not as a link
    assert "\x0b" not in text and "\x1f" not in text and "\x07" not in text and "\x1b" not in text


def test_cli_dry_run_writes_previews_and_sends_nothing(filled: Database, tmp_path: Path,
                                                       smtp_server: SMTPServer) -> None:
    env = {"NEWSMON_DATABASE_URL": filled.engine.url.render_as_string(hide_password=False),
           "NEWSMON_SMTP_PORT": str(smtp_server.port), "NEWSMON_SMTP_HOST": "127.0.0.1",
           "NEWSMON_DIGEST_TO": RECIPIENT}
    for name in ("preview.eml", "preview.html"):
        out = CliRunner().invoke(cli, ["digest", "--date", "2024-08-08", "--dry-run",
                                       "--out", str(tmp_path / name)], env=env)
        assert out.exit_code == 0, out.output
    assert b"Message-ID: <digest-2024-08-08." in (tmp_path / "preview.eml").read_bytes()
    html = (tmp_path / "preview.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "White House" in html
    assert smtp_server.messages == [] and _logged(filled) == []
    out = CliRunner().invoke(cli, ["digest", "--date", "2024-08-08"], env=env)
    assert out.exit_code == 0, out.output
    assert len(smtp_server.messages) == 1


def test_build_is_pure_and_empty_days_say_so(filled: Database) -> None:
    settings = _settings(filled)
    with filled.session() as s:
        message = build_digest(s, day=date(2030, 1, 1), settings=settings,
                               now=ANCHOR.replace(tzinfo=timezone.utc) + timedelta(days=1))
        assert not s.new and not s.dirty
    assert message.empty and message.subject == "newsmon digest 2030-01-01: nothing new"
