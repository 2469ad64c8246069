"""The subscriber blueprint: its routes, defined with it in webapp/subscriber/routes.py."""

from webapp.subscriber.routes import bp

__all__ = ["bp"]
