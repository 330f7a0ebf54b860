"""A lease row that lets only one daemon schedule work against a database.

Two schedulers on one database would poll every feed twice and could send a
digest twice. The lease expires on its own, so a daemon killed with SIGKILL
blocks a restart for at most ``ttl`` seconds; a live daemon renews it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import SchedulerLock
from storage.queries import utcnow

log = logging.getLogger(__name__)


def acquire(db: Database, *, name: str, holder: str, ttl: float) -> str | None:
    """Take or renew the lease. Returns None on success, else the current holder."""
    now = utcnow()
    try:
        with db.transaction() as session:
            row = session.get(SchedulerLock, name, with_for_update=True)
            if row is None:
                session.add(SchedulerLock(name=name, holder=holder, heartbeat=now,
                                          expires=now + timedelta(seconds=ttl)))
                return None
            if row.holder != holder and row.expires > now and not _dead_local(row.holder):
                return row.holder
            row.holder, row.heartbeat = holder, now
            row.expires = now + timedelta(seconds=ttl)
            return None
    except IntegrityError:
        # Another process inserted the row between our read and our insert.
        with db.session() as session:
            return session.scalar(select(SchedulerLock.holder).where(SchedulerLock.name == name))


def renew_until(stop: threading.Event, db: Database, *, name: str, holder: str, ttl: float,
                on_lost: Callable[[str], None]) -> None:
    """Renew the lease every quarter ``ttl`` until ``stop`` is set; run it on a thread of its own.

    Not a scheduler job: a long job on the scheduler's worker (a cycle, a
    reprocess) may outlast the TTL, and the lease must not lapse then, or a
    second daemon takes over while this process still writes. ``on_lost`` gets
    the other holder's name if the lease was taken anyway (it had expired)."""
    while not stop.wait(ttl / 4):
        try:
            other = acquire(db, name=name, holder=holder, ttl=ttl)
        except Exception:  # a database blip: retry at the next beat, within the TTL
            log.exception("lease renewal failed")
            continue
        if other is not None:
            on_lost(other)
            return


def _dead_local(holder: str) -> bool:
    """True when the holder ran on this host and its process is gone (e.g. SIGKILL).

    Waiting out the TTL is only needed for holders on other machines; a local
    one we can check, so a crashed daemon can be restarted at once.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, owned by someone else
    return False


def release(db: Database, *, name: str, holder: str) -> None:
    with db.transaction() as session:
        session.execute(delete(SchedulerLock).where(SchedulerLock.name == name,
                                                    SchedulerLock.holder == holder))


def holder_of(session: Session, name: str) -> SchedulerLock | None:
    return session.get(SchedulerLock, name)
