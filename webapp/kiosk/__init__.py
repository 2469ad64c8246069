"""The kiosk blueprint (the technician's device handed to the subscriber): its routes,
defined with it in webapp/kiosk/routes.py."""

from webapp.kiosk.routes import bp

__all__ = ["bp"]
