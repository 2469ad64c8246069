"""Who may do what: role checks shared by every blueprint."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from webapp.domain.terms import Role


def roles_required(*roles: Role):
    """Let only signed-in staff holding one of the roles into the view."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
