"""The daily digest: public surface.

``build_digest`` (pipeline.digest.build) reads the database into a typed,
already-clean ``DigestMessage``; ``compose`` (pipeline.digest.render) makes the
MIME message; ``send_digest`` and ``digest_due`` (pipeline.digest.send) send it
exactly once per day and recipient and tell the scheduler when one is due.
"""

from __future__ import annotations

from pipeline.digest.build import DigestMessage, build_digest, digest_window
from pipeline.digest.render import compose, preview_html, render_html, render_text
from pipeline.digest.send import SendReport, digest_due, message_id, send_digest, smtp_client

__all__ = [
    "DigestMessage",
    "SendReport",
    "build_digest",
    "compose",
    "digest_due",
    "digest_window",
    "message_id",
    "preview_html",
    "render_html",
    "render_text",
    "send_digest",
    "smtp_client",
]
