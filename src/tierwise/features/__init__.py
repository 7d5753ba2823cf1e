"""Per-customer features as of a date (Ibis: the same code on DuckDB, PostgreSQL and Spark)."""

from tierwise.features._build import ATTRIBUTES, build_features
from tierwise.features._orders import order_features

__all__ = ["ATTRIBUTES", "build_features", "order_features"]
