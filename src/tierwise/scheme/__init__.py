"""The classification standard (scheme): pydantic models ↔ YAML, validation, the default."""

from tierwise.scheme._expr import ExpressionError, parse, to_text
from tierwise.scheme._expr_engines import to_ibis, to_polars
from tierwise.scheme._io import (
    default_scheme,
    default_scheme_text,
    dump_scheme,
    load_scheme,
    parse_scheme,
    scheme_hash,
)
from tierwise.scheme._jenks import jenks_breaks
from tierwise.scheme._model import (
    INSUFFICIENT,
    BandsDimension,
    ClusterSettings,
    Component,
    Cut,
    GridDimension,
    Hysteresis,
    Label,
    MappingDimension,
    ModelDimension,
    ModelSettings,
    RFMDimension,
    Rule,
    RulesDimension,
    Scheme,
    ScoreDimension,
    Text,
)
from tierwise.scheme._playbook import Discount, Playbook, Playbooks, PoolRules, WinBack
from tierwise.scheme._validate import check_scheme, load_checked, validate_scheme

__all__ = [
    "INSUFFICIENT",
    "BandsDimension",
    "ClusterSettings",
    "Component",
    "Cut",
    "Discount",
    "ExpressionError",
    "GridDimension",
    "Hysteresis",
    "Label",
    "MappingDimension",
    "ModelDimension",
    "ModelSettings",
    "Playbook",
    "Playbooks",
    "PoolRules",
    "RFMDimension",
    "Rule",
    "RulesDimension",
    "Scheme",
    "ScoreDimension",
    "Text",
    "WinBack",
    "check_scheme",
    "default_scheme",
    "default_scheme_text",
    "dump_scheme",
    "jenks_breaks",
    "load_checked",
    "load_scheme",
    "parse",
    "parse_scheme",
    "scheme_hash",
    "to_ibis",
    "to_polars",
    "to_text",
    "validate_scheme",
]
