"""Who may do what, and the reads and writes of the app, scoped to the caller.

The web pages, the REST API and scripts call these functions; none of them filters by role
itself. Every function takes the caller's `Principal` and enforces its role and scope.
"""

from tierwise.access._auth import (
    AuthError,
    SessionInfo,
    SignIn,
    create_api_token,
    end_session,
    end_user_sessions,
    list_api_tokens,
    open_session,
    principal_for_token,
    revoke_api_token,
    sign_in,
)
from tierwise.access._customer_edits import assign_owner, update_customer
from tierwise.access._customer_export import export_customers
from tierwise.access._customers import (
    POOL,
    CustomerFilter,
    customer_360,
    filter_options,
    list_customers,
    scoped_pk,
)
from tierwise.access._dashboard import dashboard, last_classification
from tierwise.access._principal import (
    CAPABILITIES,
    ForbiddenError,
    Principal,
    load_principal,
    mask_email,
    mask_phone,
    scope_clause,
)
from tierwise.access._published import Published, published
from tierwise.access._snapshots import job_status, list_snapshots, snapshot_labels
from tierwise.access._users import add_user, audit_entries, list_users, reset_password, update_user

__all__ = [
    "CAPABILITIES",
    "POOL",
    "AuthError",
    "CustomerFilter",
    "ForbiddenError",
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
]
