"""Render a DigestMessage: the text and HTML bodies, the MIME message.

Layout of the mail (what clients expect for HTML with an inline image)::

    multipart/alternative
    ├── text/plain
    └── multipart/related
        ├── text/html        <img src="cid:...">
        └── image/png        Content-ID: <...>

HTML is rendered with autoescape on; the record's strings are already free of
control characters and its links are http(s) only (``build.clean``).
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import cache
from pathlib import Path

import jinja2

from pipeline.digest.build import DigestMessage
from pipeline.errors import DigestError

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Headers are not folded at 78 columns: the email package's folding of
# encoded words (a title with "€") adds or loses spaces. 998 is RFC 5322's limit.
_POLICY = SMTP.clone(max_line_length=998)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = lambda v: f"{v:,.0f}"
    env.filters["pct"] = lambda v: "new" if v is None else f"{v:+.0f}%"
    return env


def render_text(message: DigestMessage) -> str:
    return _environment().get_template("digest.txt.j2").render(m=message)


def render_html(message: DigestMessage, *, image_src: str | None) -> str:
    """HTML body; ``image_src`` is ``cid:...`` in a mail or a data: URI in a preview."""
    return _environment().get_template("digest.html.j2").render(m=message, image_src=image_src)


def parse_address(value: str) -> Address:
    if any(c in value for c in "\r\n"):
        raise DigestError(f"address {value!r} contains a line break", reason="bad_recipient")
    try:
        address = Address(addr_spec=value)
    except (ValueError, IndexError) as exc:
        raise DigestError(f"{value!r} is not a valid address: {exc}", reason="bad_recipient") from exc
    if not address.username or not address.domain:
        raise DigestError(f"{value!r} is not a valid address", reason="bad_recipient")
    return address


def compose(message: DigestMessage, *, sender: str, recipient: str,
            message_id: str) -> EmailMessage:
    """The MIME message for one recipient."""
    mail = EmailMessage(policy=_POLICY)
    mail["From"] = parse_address(sender)
    mail["To"] = parse_address(recipient)
    # The subject was cleaned of CR/LF in build; the header registry refuses
    # any that slipped through instead of letting them start a new header.
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.generated_at)
    mail["Message-ID"] = message_id
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(render_text(message))
    cid = f"chart-{message.day.isoformat()}@newsmon"
    image_src = f"cid:{cid}" if message.chart_png else None
    mail.add_alternative(render_html(message, image_src=image_src), subtype="html")
    if message.chart_png:
        html_part = mail.get_payload()[1]
        html_part.add_related(message.chart_png, "image", "png", cid=f"<{cid}>",
                              filename="top-actors.png", disposition="inline")
    return mail


def preview_html(message: DigestMessage) -> str:
    """A standalone HTML page (the chart as a data: URI) for ``--dry-run --out x.html``."""
    import base64

    src = None
    if message.chart_png:
        src = "data:image/png;base64," + base64.b64encode(message.chart_png).decode()
    return render_html(message, image_src=src)
