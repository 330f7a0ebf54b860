"""The daemon: APScheduler 3 jobs over the cycle, the lease and the digest.

APScheduler 3's traps, and what we do about them:
- a run counts as done when it is *handed* to the executor, and the default
  misfire grace is 1 s: every job gets an explicit ``misfire_grace_time``,
  ``coalesce`` and ``max_instances=1``, and fixed ids;
- the job store is memory: nothing about *what is due* lives in it. Feeds'
  next-due times and the digest log are in our database, so the cycle job
  only asks "what is due now?" and a restart resumes exactly;
- a daemon down over the digest time still sends that day's digest when it
  comes back (same day), because start-up runs the digest check once.
SIGTERM/SIGINT set a stop flag; each unit of work checks it before starting,
so the unit in hand commits and the process exits 0 within about
``request_deadline`` + a few seconds (an in-flight page fetch is the longest unit).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from config.errors import NewsmonError
from config.feeds import load_feeds
from config.settings import Settings
from pipeline.daemon import tasks
from pipeline.daemon.process import CycleStats, run_cycle
from pipeline.errors import AlreadyRunning
from storage import lease, queries
from storage.db import Database

log = logging.getLogger(__name__)

LEASE_NAME = "daemon"


def sync_feed_list(db: Database, settings: Settings) -> int:
    specs = load_feeds(settings.feeds_file)
    with db.transaction() as session:
        queries.sync_feeds(specs, session=session, default_interval=settings.poll_interval)
    return len(specs)


def daemon_cycle(db: Database, settings: Settings, *,
                 stop: threading.Event | None = None) -> CycleStats:
    """One tick: local rounds, or (with a broker) poll here and hand the work to workers."""
    stop = stop or threading.Event()
    remote = bool(settings.broker_url)
    stats = run_cycle(db, settings, stop=stop, fetch=not remote)
    if remote and not stop.is_set():
        stats.dispatched_pages, stats.dispatched_articles = tasks.dispatch(db, settings)
    return stats


@dataclass
class Daemon:
    db: Database
    settings: Settings
    tick: float = 30.0
    stop: threading.Event = field(default_factory=threading.Event)
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _failed: threading.Event = field(default_factory=threading.Event, init=False)

    # --- jobs ---------------------------------------------------------------
    def cycle_job(self) -> None:
        if self.stop.is_set():
            return
        try:
            stats = daemon_cycle(self.db, self.settings, stop=self.stop)
            log.info("cycle done", extra={"stats": vars(stats)})
        except NewsmonError as exc:
            log.error("cycle failed", extra={"error": str(exc), "reason": exc.reason})
        except Exception:  # keep the daemon alive; the next tick retries from the database
            log.exception("cycle crashed")

    def heartbeat(self) -> None:
        """Renew the lease on a thread of its own (the scheduler's one worker is
        busy for a whole cycle, which may outlast the TTL)."""
        lease.renew_until(self.stop, self.db, name=LEASE_NAME, holder=self.holder,
                          ttl=self.settings.lease_ttl, on_lost=self._lost)

    def _lost(self, other: str) -> None:
        log.error("lost the daemon lease", extra={"holder": other})
        self._failed.set()
        self.stop.set()

    def maintenance_job(self) -> None:
        """Rebuild the summary tables, then refresh the planner's statistics."""
        from storage.db import optimize
        from storage.summaries import refresh_all

        try:
            with self.db.transaction() as session:
                refresh_all(session=session)
            optimize(self.db.engine)
        except Exception:  # summaries can wait for the next run; never stop the daemon
            log.exception("maintenance failed")

    def digest_job(self) -> None:
        if self.stop.is_set() or not self.settings.digest_to:
            return
        try:
            from pipeline.digest import digest_due, send_digest

            day = digest_due(self.db, self.settings, _now(self.settings))
            if day is not None:
                send_digest(self.db, self.settings, day=day)
        except NewsmonError as exc:
            log.error("digest failed", extra={"error": str(exc)})
        except Exception:
            log.exception("digest crashed")

    # --- lifecycle ----------------------------------------------------------
    def build_scheduler(self) -> BackgroundScheduler:
        # One worker thread: jobs never overlap, so SQLite sees one writer.
        scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)},
                                        timezone=self.settings.zone)
        common: dict[str, object] = {"max_instances": 1, "coalesce": True,
                                     "replace_existing": True}
        scheduler.add_job(self.cycle_job, "interval", seconds=self.tick, id="cycle",
                          misfire_grace_time=int(self.tick * 4), **common)
        scheduler.add_job(self.maintenance_job, "interval", minutes=10, id="maintenance",
                          misfire_grace_time=600, **common)
        t = self.settings.digest_time
        # A late digest is still worth sending the same day, so the grace is a whole day;
        # digest_due() refuses anything but today's, so this never sends a stale one.
        scheduler.add_job(self.digest_job, "cron", hour=t.hour, minute=t.minute,
                          id="digest", misfire_grace_time=86_400, **common)
        return scheduler

    def run(self, install_signals: bool = True) -> int:
        ttl = self.settings.lease_ttl
        other = lease.acquire(self.db, name=LEASE_NAME, holder=self.holder, ttl=ttl)
        if other is not None:
            raise AlreadyRunning(
                f"another newsmon daemon ({other}) is running against this database; "
                f"stop it first (its lease expires {int(ttl)} s after it dies, "
                f"NEWSMON_LEASE_TTL)"
            )
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop.set())
        scheduler = self.build_scheduler()
        try:
            sync_feed_list(self.db, self.settings)
        except BaseException:
            lease.release(self.db, name=LEASE_NAME, holder=self.holder)
            raise
        beat = threading.Thread(target=self.heartbeat, name="newsmon-lease", daemon=True)
        try:
            beat.start()
            scheduler.start()
            # Run once now: the first cycle and a digest missed while we were down.
            scheduler.modify_job("cycle", next_run_time=_now(self.settings))
            scheduler.add_job(self.digest_job, id="digest-catch-up", max_instances=1,
                              misfire_grace_time=3600, replace_existing=True)
            self.stop.wait()
        finally:
            self.stop.set()
            scheduler.shutdown(wait=True)  # the job in hand finishes its unit first
            beat.join(timeout=5)
            lease.release(self.db, name=LEASE_NAME, holder=self.holder)
        return 1 if self._failed.is_set() else 0


def _now(settings: Settings) -> datetime:
    return datetime.now(settings.zone)


def run_daemon(db: Database, settings: Settings, *,
               on_ready: Callable[[Daemon], None] | None = None,
               stop: threading.Event | None = None) -> int:
    """Run until stopped; ``stop`` may already be set by a signal that came during start-up."""
    daemon = Daemon(db, settings, tick=settings.scheduler_tick, stop=stop or threading.Event())
    if on_ready:
        on_ready(daemon)
    return daemon.run()
