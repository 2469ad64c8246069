"""The receipts blueprint: its routes, defined with it in webapp/receipts/routes.py."""

from webapp.receipts.routes import bp

__all__ = ["bp"]
