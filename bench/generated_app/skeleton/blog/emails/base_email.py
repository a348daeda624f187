"""The base class of the app's emails."""
from proper.emails import EmailMessage

from ..tasks import send_email_task


class BaseEmail(EmailMessage):
    def send_later(self, *, via=None, **options):
        """Render now, deliver from the queue."""
        self.update(**options)
        if not self.body:
            self._render()
        send_email_task(message=self.serialize(), via=via)
