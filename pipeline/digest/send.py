"""Send the digest exactly once per day and recipient.

The ``digest_log`` row is the record of "sent": it commits only after the SMTP
server accepted the message, and a row present means "do not send again",
so a second run, a restart or a catch-up is a no-op. A crash between the
server's accept and the commit resends once, with the same deterministic
Message-ID, which mail clients fold into one message. Transient failures
(connection refused, 4xx) are retried with a bounded backoff; permanent ones
(5xx) are not; neither is ever logged as sent.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from config.settings import Settings
from pipeline.digest.build import DigestMessage, build_digest
from pipeline.digest.render import compose, parse_address
from pipeline.errors import DigestError
from storage.db import Database
from storage.models import DigestLog

log = logging.getLogger(__name__)

SMTPFactory = Callable[[Settings], smtplib.SMTP]
ATTEMPTS = 4
BACKOFF_S = 2.0  # 2, 4, 8 s between the four attempts


@dataclass(frozen=True, slots=True)
class SendReport:
    day: date
    sent: tuple[str, ...] = ()
    already_sent: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)


def message_id(day: date, recipient: str) -> str:
    """The same Message-ID for the same (day, recipient), whoever sends it."""
    digest = hashlib.sha256(f"{day.isoformat()}|{recipient.lower()}".encode()).hexdigest()[:16]
    return f"<digest-{day.isoformat()}.{digest}@newsmon>"


def smtp_client(settings: Settings) -> smtplib.SMTP:
    """An SMTP connection as the settings ask: none, starttls or ssl, with login."""
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
    context = ssl.create_default_context()
    if settings.smtp_security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
        if settings.smtp_security == "starttls":
            client.starttls(context=context)
    if settings.smtp_user:
        if settings.smtp_security == "none" and not settings.smtp_allow_plaintext_login:
            # Settings validation refuses this too; a second check where the password leaves.
            client.close()
            raise DigestError("refusing to send the SMTP password unencrypted: set "
                              "NEWSMON_SMTP_SECURITY=starttls or ssl, or "
                              "NEWSMON_SMTP_ALLOW_PLAINTEXT_LOGIN=true for a trusted relay")
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        client.login(settings.smtp_user, password)
    return client


def _logged(db: Database, day: date) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(DigestLog.recipient).where(DigestLog.day == day)))


def digest_due(db: Database, settings: Settings, now: datetime) -> date | None:
    """The day whose digest should go out now, or None.

    Today, once local ``now`` has reached digest_time and some recipient has
    no log row for today; so the scheduler can call this on start to catch up
    after downtime on the same day. ``now`` naive means UTC.
    """
    aware = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    local = aware.astimezone(settings.zone)
    if not settings.digest_to or local.time().replace(tzinfo=None) < settings.digest_time:
        return None
    today = local.date()
    return today if set(settings.digest_to) - _logged(db, today) else None


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _deliver(mail: EmailMessage, settings: Settings, recipient: str, factory: SMTPFactory,
             attempts: int, backoff: float) -> None:
    """Hand ``mail`` to the server; returns only once the server accepted it."""
    for attempt in range(1, attempts + 1):
        try:
            client = factory(settings)
            try:
                client.send_message(mail, from_addr=settings.digest_from, to_addrs=[recipient])
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()  # accepted is accepted; a failed QUIT changes nothing
            return
        except (smtplib.SMTPException, OSError) as exc:
            if _permanent(exc) or attempt == attempts:
                raise DigestError(f"SMTP refused the digest for {recipient} "
                                  f"(attempt {attempt}): {exc}", reason="smtp") from exc
            log.warning("digest to %s failed (attempt %d): %s", recipient, attempt, exc)
            time.sleep(backoff * 2 ** (attempt - 1))


def _record(db: Database, day: date, recipient: str, mid: str) -> None:
    try:
        with db.transaction() as session:
            session.add(DigestLog(day=day, recipient=recipient, message_id=mid,
                                  sent_at=datetime.now(timezone.utc).replace(tzinfo=None)))
    except IntegrityError:
        log.info("digest %s for %s was logged by another sender", day, recipient)


def send_digest(db: Database, settings: Settings, *, day: date,
                smtp_factory: SMTPFactory | None = None, attempts: int = ATTEMPTS,
                backoff: float = BACKOFF_S, now: datetime | None = None) -> SendReport:
    """Build and send the digest of ``day`` to every recipient not yet logged."""
    if not settings.digest_to:
        raise DigestError("no digest recipients: set digest_to", reason="no_recipients")
    for recipient in settings.digest_to:
        parse_address(recipient)
    done = _logged(db, day)
    pending = [r for r in settings.digest_to if r not in done]
    if not pending:
        return SendReport(day, already_sent=tuple(settings.digest_to))
    with db.session() as session:
        message: DigestMessage = build_digest(session, day=day, settings=settings, now=now)
    sent, failed = [], {}
    for recipient in pending:
        mid = message_id(day, recipient)
        mail = compose(message, sender=settings.digest_from, recipient=recipient, message_id=mid)
        try:
            _deliver(mail, settings, recipient, smtp_factory or smtp_client, attempts, backoff)
        except DigestError as exc:
            failed[recipient] = str(exc)
            continue
        _record(db, day, recipient, mid)
        sent.append(recipient)
    report = SendReport(day, tuple(sent), tuple(r for r in settings.digest_to if r in done), failed)
    if failed:
        raise DigestError("digest not sent to " + "; ".join(failed.values()), reason="smtp")
    return report
