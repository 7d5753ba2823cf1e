"""Features + scheme → labels with explanations; snapshots, change events, history, preview.

The package is also the analysts' entry point: ``tierwise.classify(orders=..., customers=...)``
classifies files or DataFrames with no store (``tierwise.classify.classify_files``).
"""

import sys
import types
from typing import Any

from tierwise.classify._compile import compile_scheme
from tierwise.classify._explain import explain_row
from tierwise.classify._files import classify as classify_files
from tierwise.classify._manage import (
    decide_pending,
    list_overrides,
    list_pending,
    revoke_override,
    set_override,
)
from tierwise.classify._models import ModelOutput, register_model, registered_models
from tierwise.classify._post import Outcome, Prior, settle
from tierwise.classify._run import RunResult, run
from tierwise.classify._service import (
    classify_store,
    compare,
    customer_history,
    explain_customer,
    preview_store,
    published_counts,
)

__all__ = [
    "ModelOutput",
    "Outcome",
    "Prior",
    "RunResult",
    "classify_files",
    "classify_store",
    "compare",
    "compile_scheme",
    "customer_history",
    "decide_pending",
    "explain_customer",
    "explain_row",
    "list_overrides",
    "list_pending",
    "preview_store",
    "published_counts",
    "register_model",
    "registered_models",
    "revoke_override",
    "run",
    "set_override",
    "settle",
]


class _Callable(types.ModuleType):
    """Calling the package classifies files or frames: ``tierwise.classify(orders=...)``."""

    def __call__(self, **kwargs: Any) -> Any:
        return classify_files(**kwargs)


sys.modules[__name__].__class__ = _Callable
