"""What can stop a receipt from being produced. Its own module, below render, signing
and the service, so each can subclass it without importing another."""


class ReceiptError(RuntimeError):
    """The receipt could not be produced (rendered, signed, or read back); closing a job
    catches exactly this, and then nothing may be closed."""
