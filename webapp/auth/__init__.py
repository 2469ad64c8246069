"""The auth blueprint: its routes, defined with it in webapp/auth/routes.py."""

from webapp.auth.routes import bp

__all__ = ["bp"]
