"""Tierwise: customer classification and tiering (客户分类 / 客户分级管理)."""

from tierwise.errors import ConfigError, DataError, NotFoundError, TierwiseError

__version__ = "0.1.0.dev0"

__all__ = ["ConfigError", "DataError", "NotFoundError", "TierwiseError", "__version__"]
