"""The web app and REST API: ``create_app(settings)``; ``tierwise serve`` runs it."""

from tierwise.web._app import CSP, create_app

__all__ = ["CSP", "create_app"]
