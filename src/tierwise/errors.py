"""One root error for everything Tierwise raises on purpose.

Messages name the bad value and where it is, and say what to do about it.
"""

from __future__ import annotations


class TierwiseError(Exception):
    """Root of every error Tierwise raises deliberately.

    ``key`` and ``params`` (optional) name the message in the app's message catalogue, so that
    the web app can say it in the user's language; ``str(error)`` stays the English text.
    """

    def __init__(self, message: str = "", *, key: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


class DataError(TierwiseError, ValueError):
    """The user's data (a file, a value, a mapping) cannot be used as given."""


class ConfigError(TierwiseError, ValueError):
    """A setting is missing, unsafe or invalid."""


class SchemeError(TierwiseError, ValueError):
    """The classification scheme is invalid; the message names the YAML path."""


class NotFoundError(TierwiseError, LookupError):
    """A record does not exist (or is outside the caller's scope)."""


class ConflictError(TierwiseError, RuntimeError):
    """Another process changed what this one was working on; running it again resolves it."""


__all__ = [
    "ConfigError",
    "ConflictError",
    "DataError",
    "NotFoundError",
    "SchemeError",
    "TierwiseError",
]
