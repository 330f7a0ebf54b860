"""Commands of the ingestion half: run, fetch, feeds, read, status, db, reprocess."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import func, select

from config.feeds import FeedSpec, add_feed, load_feeds, remove_feed
from config.settings import parse_duration
from pipeline.cli.app import App, pass_app
from storage.models import Article, Feed


@click.command()
@pass_app
def run(app: App) -> None:
    """Start the daemon: poll due feeds, fetch, extract and mail the digest until stopped.

    SIGTERM or Ctrl-C finishes the unit of work in hand, commits and exits 0.

    \b
    Example:
      NEWSMON_DATABASE_URL=sqlite:///data/newsmon.db newsmon run
    """
    import signal
    import threading

    # Before the slow part of start-up (imports, migrations): a SIGTERM then is a
    # clean stop with exit 0, not Python's default death by signal.
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    from pipeline.daemon.scheduler import run_daemon

    sys.exit(run_daemon(app.db, app.settings, stop=stop))


@click.command()
@click.option("--once", is_flag=True, required=True, help="One full cycle, then exit.")
@click.option("--due", is_flag=True,
              help="Poll only the feeds whose next poll is due (as the daemon does), "
                   "not every enabled feed.")
@click.option("--no-extract", is_flag=True, help="Stop after storing article text.")
@pass_app
def fetch(app: App, once: bool, due: bool, no_extract: bool) -> None:
    """Run one full cycle now (poll, fetch, read, extract) with a progress bar.

    Every enabled feed is polled now, whatever its schedule or backoff (with
    its validators, so an unchanged feed answers 304); --due polls only the
    feeds that are due. The summary says what was polled, what was skipped and
    why, and when the next poll is due.

    \b
    Example:
      newsmon fetch --once
    """
    from pipeline.daemon.process import run_cycle
    from pipeline.daemon.scheduler import sync_feed_list

    sync_feed_list(app.db, app.settings)
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description:8}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        stats = run_cycle(app.db, app.settings, progress=progress, extract=not no_extract,
                          poll_all=not due)
    _refresh_summaries(app)
    table = Table(title="newsmon fetch --once" + (" --due" if due else ""))
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in vars(stats).items():
        if key not in ("errors", "skipped", "dispatched_pages", "dispatched_articles"):
            table.add_row(key.replace("_", " "), str(value))
    for reason, n in sorted(stats.skipped.items()):
        table.add_row(f"pages skipped: {reason}", str(n))
    console = Console()
    console.print(table)
    for line in _feed_summary(app, polled=stats.feeds_polled, due_only=due):
        console.print(line)
    for error in stats.errors[:20]:
        console.print(f"error: {error}")


def _feed_summary(app: App, *, polled: int, due_only: bool) -> list[str]:
    """Which feeds were not polled and why, and when the next poll is due."""
    with app.db.session() as session:
        feeds = list(session.scalars(select(Feed).order_by(Feed.name)))
    enabled = [f for f in feeds if f.enabled]
    lines = [f"feeds: {polled} polled of {len(enabled)} enabled"]
    if due_only and len(enabled) > polled:
        lines.append(f"  {len(enabled) - polled} not due yet (--due); "
                     f"run without --due to poll them now")
    for f in feeds:
        if not f.enabled:
            lines.append(f"  skipped {f.name}: {f.disabled_reason or 'disabled'}")
    upcoming = [f.next_due for f in enabled if f.next_due]
    if upcoming:
        lines.append(f"next poll due at {min(upcoming):%Y-%m-%d %H:%M} UTC")
    return lines


@click.group()
def feeds() -> None:
    """List, add or remove feeds (edits the feeds file).

    \b
    Example:
      newsmon feeds add "UN News" https://news.un.org/feed/subscribe/en/news/all/rss.xml
    """


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
@pass_app
def feeds_list(app: App, as_json: bool) -> None:
    """Show the feeds of the feeds file.

    \b
    Example:
      newsmon feeds list --json
    """
    specs = load_feeds(app.settings.feeds_file)
    if as_json:
        for spec in specs:
            click.echo(json.dumps({"name": spec.name, "url": spec.url, "tags": list(spec.tags),
                                   "interval_s": spec.interval_s or app.settings.poll_interval}))
        return
    table = Table(title=str(app.settings.feeds_file))
    for column in ("name", "url", "interval", "tags"):
        table.add_column(column)
    for spec in specs:
        interval = spec.interval_s or app.settings.poll_interval
        table.add_row(spec.name, spec.url, f"{int(interval)}s", ", ".join(spec.tags))
    Console().print(table)


@feeds.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--interval", default=None, help="Poll interval, e.g. 15m (default: setting).")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for several.")
@pass_app
def feeds_add(app: App, name: str, url: str, interval: str | None, tags: tuple[str, ...]) -> None:
    """Add a feed to the feeds file.

    \b
    Example:
      newsmon feeds add "NATO News" https://www.nato.int/rss.xml --interval 1h --tag nato
    """
    try:
        seconds = parse_duration(interval) if interval else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--interval") from exc
    add_feed(app.settings.feeds_file, FeedSpec(name, url, seconds, tags))
    click.echo(f"added {name!r} to {app.settings.feeds_file}")


@feeds.command("remove")
@click.argument("name")
@pass_app
def feeds_remove(app: App, name: str) -> None:
    """Remove a feed from the feeds file (its stored articles stay).

    \b
    Example:
      newsmon feeds remove "NATO News"
    """
    remove_feed(app.settings.feeds_file, name)
    click.echo(f"removed {name!r} from {app.settings.feeds_file}")


@click.command()
@click.argument("sources", nargs=-1, required=True)
@pass_app
def read(app: App, sources: tuple[str, ...]) -> None:
    """Print the reader's output for pages (files or URLs) as JSON Lines.

    Fields: id (file stem or URL), text, title, published, authors, language.

    \b
    Example:
      newsmon read page.html https://example.org/story
    """
    from pipeline.analysis.inputs import load_page

    for source in sources:
        ident, article = load_page(source, app.settings)
        click.echo(json.dumps({
            "id": ident, "text": article.text, "title": article.title,
            "published": article.published.isoformat() if article.published else None,
            "authors": list(article.authors), "language": article.language,
        }, ensure_ascii=False))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of tables.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Per feed: last poll, HTTP status, new items, errors, next due; then totals.

    \b
    Example:
      newsmon status
    """
    from storage.queries import skip_reasons, status_counts

    with app.db.session() as session:
        rows = list(session.scalars(select(Feed).order_by(Feed.name)))
        counts = status_counts(session=session)
        reasons = skip_reasons(session=session)
        per_feed = dict(session.execute(
            select(Article.feed_id, func.count()).group_by(Article.feed_id)).all())
    if as_json:
        click.echo(json.dumps({"feeds": [_feed_json(f, per_feed) for f in rows],
                               "articles": counts,
                               "skipped_or_failed": [
                                   {"status": st, "reason": r, "articles": n, "latest": d}
                                   for st, r, n, d in reasons]}, default=str))
        return
    table = Table(title="feeds")
    for column in ("feed", "state", "last poll", "HTTP", "new", "articles", "errors",
                   "next due", "last error"):
        table.add_column(column)
    for f in rows:
        state = "ok" if f.enabled else (f.disabled_reason or "disabled")
        if f.moved_from:
            state += f" (moved 301 from {f.moved_from} to {f.url})"
        table.add_row(f.name, state, _when(f.last_polled), str(f.last_status or "-"),
                      str(f.last_new_items), str(per_feed.get(f.id, 0)),
                      str(f.consecutive_errors), _when(f.next_due) if f.enabled else "-",
                      (f.last_error or "")[:300])
    console = Console(width=max(Console().width, 140))
    console.print(table)
    totals = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none yet"
    console.print(f"articles: {totals}")
    if reasons:
        why = Table(title="why articles were skipped or failed")
        for column in ("status", "reason", "articles", "latest message"):
            why.add_column(column)
        for st, reason, n, detail in reasons:
            why.add_row(st, reason, str(n), (detail or "")[:300])
        console.print(why)


def _feed_json(f: Feed, per_feed: dict[int | None, int]) -> dict[str, object]:
    return {"name": f.name, "url": f.url, "moved_from": f.moved_from, "enabled": f.enabled,
            "disabled_reason": f.disabled_reason, "last_polled": f.last_polled,
            "last_status": f.last_status, "new_items": f.last_new_items,
            "articles": per_feed.get(f.id, 0), "consecutive_errors": f.consecutive_errors,
            "next_due": f.next_due, "last_error": f.last_error}


@click.group()
def db() -> None:
    """Database maintenance for operators who migrate by hand.

    \b
    Example:
      newsmon db upgrade
    """


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_app
def db_upgrade(app: App, revision: str) -> None:
    """Migrate the database schema to REVISION (default: latest).

    \b
    Example:
      NEWSMON_DATABASE_URL=postgresql+psycopg://newsmon@db/newsmon newsmon db upgrade
    """
    from storage.db import current_revision, open_database, upgrade

    database = open_database(app.settings.database_url, migrate=False)
    try:
        upgrade(database.engine, revision)
        click.echo(f"schema at revision {current_revision(database.engine)}")
    finally:
        database.dispose()


@click.command()
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only articles discovered on or after this date.")
@click.option("--all", "everything", is_flag=True,
              help="Also articles already extracted by the current model and data files.")
@pass_app
def reprocess(app: App, since: datetime | None, everything: bool) -> None:
    """Re-run extraction on stored text (after the rules or data files changed).

    Each article's old rows are replaced in one transaction with its new ones,
    labelled with the version and fingerprint of the current model and data
    files. By default only articles extracted with another version are redone.
    With a daemon running on this database, the articles are queued for it
    (it rebuilds its pipeline when a data file changes); otherwise this command
    holds the daemon's lease while it works, so no daemon starts meanwhile.

    \b
    Example:
      newsmon reprocess --since 2026-01-01
    """
    import os
    import socket
    import threading

    from pipeline.analysis.extract import version_of
    from pipeline.daemon.process import CycleStats, extract_fetched
    from pipeline.daemon.scheduler import LEASE_NAME
    from storage import lease
    from storage.queries import reset_for_reprocess

    version = version_of(app.settings)
    keep = None if everything else version
    holder = f"{socket.gethostname()}:{os.getpid()}"
    ttl = app.settings.lease_ttl
    daemon = lease.acquire(app.db, name=LEASE_NAME, holder=holder, ttl=ttl)
    with app.db.transaction() as session:
        count = reset_for_reprocess(session=session, since=since, keep_version=keep)
    if daemon is not None:
        click.echo(f"queued {count} articles for the running daemon ({daemon}); it "
                   f"re-extracts them as {version} (see `newsmon status`)")
        return
    stop = threading.Event()
    beat = threading.Thread(target=lease.renew_until, args=(stop, app.db), daemon=True,
                            kwargs={"name": LEASE_NAME, "holder": holder, "ttl": ttl,
                                    "on_lost": lambda other: stop.set()})
    beat.start()
    try:
        stats = CycleStats()
        extract_fetched(app.db, app.settings, stats, stop)
        _refresh_summaries(app)
    finally:
        stop.set()
        beat.join(timeout=5)
        lease.release(app.db, name=LEASE_NAME, holder=holder)
    click.echo(f"re-extracted {stats.extracted} of {count} articles as {version}")


def _refresh_summaries(app: App) -> None:
    from storage.summaries import refresh_all

    with app.db.transaction() as session:
        refresh_all(session=session)


COMMANDS = [run, fetch, feeds, read, status, db, reprocess]

__all__ = ["COMMANDS"]


@click.command()
@click.option("--concurrency", type=int, default=None,
              help="Worker processes (default: one per core).")
@pass_app
def worker(app: App, concurrency: int | None) -> None:
    """Run a Celery worker that fetches pages and extracts articles for the daemon.

    Needs NEWSMON_BROKER_URL and a database all workers share (PostgreSQL).

    \b
    Example:
      NEWSMON_BROKER_URL=redis://127.0.0.1:6379/0 newsmon worker --concurrency 2
    """
    from config.errors import ConfigError
    from pipeline.daemon.tasks import app as celery_app
    from pipeline.daemon.tasks import configure

    if not app.settings.broker_url:
        raise ConfigError("newsmon worker needs NEWSMON_BROKER_URL (a Redis or RabbitMQ URL)")
    configure(app.settings)
    argv = ["worker", "--queues", "newsmon", "--loglevel", app.settings.log_level,
            "--without-gossip", "--without-mingle"]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    celery_app.worker_main(argv)


COMMANDS.append(worker)
