"""Page objects: each navigation they make is followed by an axe-core check."""

from e2e.pages.portal import Portal

__all__ = ["Portal"]
