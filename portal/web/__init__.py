"""HTTP only: parse, call a service, render."""

from portal.web import parse as _parse

_parse.register()  # before any area module compiles its routes with ``{name:id}``
