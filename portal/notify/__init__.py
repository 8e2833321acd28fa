"""Messages to people (one-time codes, notices) go through one notifier.

Use cases take any object with ``send(message)``; which one the portal runs with is chosen once, from the
settings: the SMS gateway in production (PORTAL_SMS_URL, PORTAL_SMS_KEY), otherwise the development sink,
which keeps what was sent for the development-only page /dev/messages and writes it to the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from portal import i18n
from portal.errors import Msg


@dataclass(frozen=True)
class Message:
    to: str  # a mainland mobile number
    text: str
    purpose: str  # code | notice
    at: datetime


class NotifierError(RuntimeError):
    """The message could not be handed over; the caller decides what the person is told."""


class Notifier(Protocol):
    def send(self, message: Message) -> None: ...


def compose(message: Msg) -> str:
    """A message's text in the default language: an SMS has no visitor whose language we know."""
    return message.render(i18n.translations(i18n.DEFAULT_LOCALE).gettext)


def for_settings(settings) -> Notifier:
    if settings.sms_url:
        from portal.notify.sms_gateway import SmsGateway

        return SmsGateway(settings.sms_url, settings.sms_key)
    if settings.production:  # from_environment refuses this already; never the development sink in production
        return Unconfigured()
    from portal.notify.dev_sink import DevelopmentSink

    return DevelopmentSink()


class Unconfigured:
    """Production without a gateway: every message fails (and is logged as failed), none is shown anywhere."""

    def send(self, message: Message) -> None:
        raise NotifierError("no SMS gateway configured (PORTAL_SMS_URL)")
