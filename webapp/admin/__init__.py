"""The admin blueprint: its routes, defined with it in webapp/admin/routes.py."""

from webapp.admin.routes import bp

__all__ = ["bp"]
