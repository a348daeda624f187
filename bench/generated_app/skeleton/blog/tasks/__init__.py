"""Background tasks."""
from ..main import app


@app.queue.task()
def send_email_task(message, via=None):
    mailer = app.mailers[via] if via else app.mailer
    return mailer.send_now(message)
