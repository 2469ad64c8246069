"""The JSON API for the order system: /api/v1, documented at /api/v1/openapi.json.

smorest.py adapts flask-smorest (problem details, the language, the parser);
routes.py holds the operations; schemas.py what they take and give.
"""

from webapp.api.routes import bp
from webapp.api.smorest import HandoverApi

__all__ = ["HandoverApi", "bp"]
