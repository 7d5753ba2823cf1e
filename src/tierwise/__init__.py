"""Tierwise: customer classification and tiering (客户分类 / 客户分级管理)."""

from typing import Any

from tierwise.errors import ConfigError, DataError, NotFoundError, TierwiseError

__version__ = "0.1.0.dev0"

__all__ = ["ConfigError", "DataError", "NotFoundError", "TierwiseError", "__version__", "classify"]


def __getattr__(name: str) -> Any:
    # `tierwise.classify(...)` is the Python API: the subpackage is imported on first use
    if name == "classify":
        import tierwise.classify

        return tierwise.classify
    raise AttributeError(f"module 'tierwise' has no attribute {name!r}")
