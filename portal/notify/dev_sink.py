"""Development only: messages are kept in memory (newest first) and written to the log instead of being sent."""

from __future__ import annotations

import logging
import threading
from collections import deque

from portal.notify import Message

log = logging.getLogger("portal.notify")
KEEP = 200


class DevelopmentSink:
    def __init__(self) -> None:
        self._sent: deque[Message] = deque(maxlen=KEEP)
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            self._sent.appendleft(message)
        log.info("development SMS to %s (%s): %s", message.to, message.purpose, message.text)

    def messages(self, to: str | None = None) -> list[Message]:
        with self._lock:
            return [message for message in self._sent if to is None or message.to == to]
