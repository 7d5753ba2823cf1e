"""Per-customer features as of a date (Ibis: the same code on DuckDB, PostgreSQL and Spark)."""

from tierwise.features._build import ATTRIBUTES, build_features
from tierwise.features._catalog import FEATURES, feature_name
from tierwise.features._orders import order_features
from tierwise.features._sentiment import sentiment_expr, sentiment_label

__all__ = [
    "ATTRIBUTES",
    "FEATURES",
    "build_features",
    "feature_name",
    "order_features",
    "sentiment_expr",
    "sentiment_label",
]
