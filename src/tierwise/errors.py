"""One root error for everything Tierwise raises on purpose.

Messages name the bad value and where it is, and say what to do about it.
"""

from __future__ import annotations


class TierwiseError(Exception):
    """Root of every error Tierwise raises deliberately."""


class DataError(TierwiseError, ValueError):
    """The user's data (a file, a value, a mapping) cannot be used as given."""


class ConfigError(TierwiseError, ValueError):
    """A setting is missing, unsafe or invalid."""


class SchemeError(TierwiseError, ValueError):
    """The classification scheme is invalid; the message names the YAML path."""


class NotFoundError(TierwiseError, LookupError):
    """A record does not exist (or is outside the caller's scope)."""


__all__ = ["ConfigError", "DataError", "NotFoundError", "SchemeError", "TierwiseError"]
