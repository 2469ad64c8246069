"""The outbox: SMS, e-mail and webhook events, queued in the transaction of what they
tell about and delivered by a worker process (`flask --app wsgi outbox work`).

service.py queues, claims and records; messages.py writes what is said; worker.py is
the loop; mail.py, sms.py and webhooks.py are the channels; routes.py the staff page.
"""

from webapp.outbox.routes import bp

__all__ = ["bp"]
