"""The support blueprint: its routes, defined with it in webapp/support/routes.py."""

from webapp.support.routes import bp

__all__ = ["bp"]
