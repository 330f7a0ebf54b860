"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the digest tests.

Use the ``smtp_server`` fixture (add ``tests.support.smtp`` to pytest_plugins,
or import the fixture). The handler keeps every accepted message and can be
told to refuse the next DATA commands with given replies ("451 ...", "554 ...")
to exercise retries and failures the way a real server answers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def parsed(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class RecordingHandler:
    messages: list[Received] = field(default_factory=list)
    refuse_next: list[str] = field(default_factory=list)  # replies for the next DATA commands
    data_commands: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.data_commands += 1
            if self.refuse_next:
                return self.refuse_next.pop(0)
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or envelope.content)))
        return "250 2.0.0 OK queued"


@dataclass
class SMTPServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPServer("127.0.0.1", port, handler)
    finally:
        controller.stop()
