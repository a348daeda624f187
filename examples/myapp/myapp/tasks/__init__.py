"""Background tasks (Huey), declared with `@app.queue.task()`."""
from ..main import app


@app.queue.task()
def send_email_task(message: dict, via: str | None = None) -> int:
    """Deliver an already rendered, serialized email (see `BaseEmail.send_later`)."""
    mailer = app.mailers[via] if via else app.mailer
    return mailer.send_now(message)


from .photos import generate_thumbnail  # noqa: E402,F401
