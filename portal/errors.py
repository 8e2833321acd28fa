"""Domain errors carry an HTTP status and a translatable message; one handler renders them."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.i18n import readable


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown, in the visitor's language."""
    return message


@dataclass(frozen=True)
class Msg:
    """A message id (English source text) with its named parameters."""

    text: str
    params: dict = field(default_factory=dict)

    def render(self, gettext) -> str:
        translated = gettext(self.text)
        return translated % readable(self.params) if self.params else translated


class PortalError(Exception):
    status_code = 400

    def __init__(self, message: Msg | str | None = None):
        if isinstance(message, str):
            message = Msg(message)
        self.message = message or Msg(N_("The request could not be completed."))
        super().__init__(self.message.text)


class ValidationFailed(PortalError):
    """Bad input: a message per field (field name → Msg). Nothing was changed."""

    status_code = 422

    def __init__(self, errors: dict[str, Msg]):
        super().__init__(Msg(N_("There is a problem with what you entered.")))
        self.errors = errors


class NotFound(PortalError):
    status_code = 404


class Forbidden(PortalError):
    status_code = 403


class Conflict(PortalError):
    """The thing changed under the user, or already exists."""

    status_code = 409


class Throttled(PortalError):
    """Too many requests of one kind from one address (or for one account): answered 429 with Retry-After."""

    status_code = 429

    def __init__(self, message: Msg | str | None, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
