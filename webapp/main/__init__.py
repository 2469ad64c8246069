"""The main blueprint: its routes, defined with it in webapp/main/routes.py."""

from webapp.main.routes import bp

__all__ = ["bp"]
