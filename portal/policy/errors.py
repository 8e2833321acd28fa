"""Errors raised by the policy engine."""


class PolicyInputError(ValueError):
    """An input a rule cannot accept; ``field`` names the input so callers can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ParameterNotDefined(LookupError):
    """A parameter has no value on the requested date (before its first value or after an explicit end)."""


class ParameterFileError(ValueError):
    """A parameter file is malformed; raised when the files are loaded so a bad edit fails at once."""
