"""The public API of each stage is deliberate: adding or removing a name updates this test."""

from __future__ import annotations

import importlib

import pytest

PUBLIC: dict[str, set[str]] = {
    "tierwise": {
        "ConfigError",
        "DataError",
        "NotFoundError",
        "TierwiseError",
        "__version__",
        "classify",
    },
    "tierwise.scheme": {
        "BandsDimension",
        "Component",
        "Cut",
        "ExpressionError",
        "GridDimension",
        "Hysteresis",
        "INSUFFICIENT",
        "Label",
        "MappingDimension",
        "ModelDimension",
        "RFMDimension",
        "Rule",
        "RulesDimension",
        "Scheme",
        "ScoreDimension",
        "Text",
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
    },
    "tierwise.classify": {
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
    },
    "tierwise.engine": {
        "AnalyticCopy",
        "Analytics",
        "ENGINES",
        "EngineName",
        "SyncReport",
        "analytic_copy",
        "arrow_schema",
        "connect",
        "from_arrow",
        "postgres_backend",
        "spark_from_parquet",
        "spark_session",
    },
    "tierwise.features": {
        "ATTRIBUTES",
        "FEATURES",
        "build_features",
        "feature_name",
        "order_features",
        "sentiment_expr",
        "sentiment_label",
    },
    "tierwise.act": {
        "neutralise",
        "write_table",
    },
    "tierwise.access": {
        "AuthError",
        "CAPABILITIES",
        "CustomerFilter",
        "ForbiddenError",
        "POOL",
        "Principal",
        "Published",
        "SessionInfo",
        "SignIn",
        "add_user",
        "assign_owner",
        "audit_entries",
        "create_api_token",
        "customer_360",
        "dashboard",
        "end_session",
        "end_user_sessions",
        "export_customers",
        "filter_options",
        "job_status",
        "last_classification",
        "list_api_tokens",
        "list_customers",
        "list_snapshots",
        "list_users",
        "load_principal",
        "mask_email",
        "mask_phone",
        "open_session",
        "principal_for_token",
        "published",
        "reset_password",
        "revoke_api_token",
        "scope_clause",
        "scoped_pk",
        "sign_in",
        "snapshot_labels",
        "update_customer",
        "update_user",
    },
    "tierwise.web": {
        "CSP",
        "app_from_env",
        "create_app",
    },
    "tierwise.demo": {
        "DemoSummary",
        "DemoUsers",
        "create_demo_users",
        "generate",
    },
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_are_exactly_these(module: str) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == PUBLIC[module]
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{module}.{name}"


def test_classify_is_callable_from_the_top() -> None:
    import tierwise

    assert callable(tierwise.classify)
