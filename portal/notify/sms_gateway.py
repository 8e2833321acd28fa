"""The production adapter: one HTTPS POST per message to the province's SMS gateway.

The gateway takes JSON ``{"to": "139…", "text": "…"}`` with ``Authorization: Bearer <PORTAL_SMS_KEY>`` and answers
2xx once it has accepted the message.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from portal.notify import Message, NotifierError

log = logging.getLogger("portal.notify")
TIMEOUT_SECONDS = 5  # a request waits for the gateway; longer would tie up a worker


class SmsGateway:
    def __init__(self, url: str, key: str, *, opener=urllib.request.urlopen):
        self.url = url
        self.key = key
        self._open = opener

    def send(self, message: Message) -> None:
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
