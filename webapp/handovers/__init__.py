"""The handovers blueprint: its routes, defined with it in webapp/handovers/routes.py."""

from webapp.handovers.routes import bp

__all__ = ["bp"]
