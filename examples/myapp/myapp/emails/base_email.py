"""The base class of the app's emails."""
from proper.emails import EmailMessage

from ..tasks import send_email_task


class BaseEmail(EmailMessage):
    """An email rendered from `views/emails/<name>.jx` (and `.txt.jx`)."""

    def send_later(self, *, via: str | None = None, **options) -> None:
        """Render the email now and deliver it from the queue.

        The template is rendered before queueing, so the task only carries
        plain data (and the body is never empty).
        """
        self.update(**options)
        if not self.body:
            self._render()
        send_email_task(message=self.serialize(), via=via)
