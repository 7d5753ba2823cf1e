"""The web app and REST API: ``create_app(settings)``; ``tierwise serve`` runs it."""

from tierwise.web._app import CSP, app_from_env, create_app

__all__ = ["CSP", "app_from_env", "create_app"]
