"""The production adapter: one HTTPS POST per message to the province's SMS gateway.

The gateway takes JSON ``{"to": "139…", "text": "…"}`` with ``Authorization: Bearer <PORTAL_SMS_KEY>`` and answers
2xx once it has accepted the message.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request

from portal.notify import Message, NotifierError

log = logging.getLogger("portal.notify")
TIMEOUT_SECONDS = 5  # a request waits for the gateway; longer would tie up a worker


class SmsGateway:
    """``send`` hands the message to a worker thread and returns at once: a request that sends a code must take
    as long as one that does not, or its timing would tell whether the identity number has a mobile on record.
    A message the gateway refuses is logged; the person asks for a new code."""

    def __init__(self, url: str, key: str, *, opener=urllib.request.urlopen):
        self.url = url
        self.key = key
        self._open = opener
        self._queue: queue.Queue[Message] = queue.Queue(maxsize=10000)
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="sms-gateway", daemon=True)
                self._worker.start()
        try:
            self._queue.put_nowait(message)
        except queue.Full as error:
            raise NotifierError("SMS queue full") from error

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            try:
                self.deliver(message)
            except NotifierError:
                log.exception("an SMS was not accepted by the gateway (%s)", message.purpose)
            finally:
                self._queue.task_done()

    def wait(self) -> None:
        """Until every message handed over so far has been tried (tests, shutdown)."""
        self._queue.join()

    def deliver(self, message: Message) -> None:
        """One POST to the gateway, now; NotifierError when it is not accepted."""
        body = json.dumps({"to": message.to, "text": message.text}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {self.key}"})
        try:
            with self._open(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError) as error:
            raise NotifierError(f"SMS gateway unreachable: {error}") from error
        if not 200 <= status < 300:
            raise NotifierError(f"SMS gateway answered {status}")
        log.info("SMS handed to the gateway for %s****%s (%s)", message.to[:3], message.to[-4:], message.purpose)
