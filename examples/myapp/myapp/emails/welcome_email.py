"""The email sent after signing up."""
from ..main import app
from .base_email import BaseEmail


class WelcomeEmail(BaseEmail):
    """Welcomes a new user and links to their dashboard."""

    subject = "Welcome to MyApp"

    def __init__(self, user, **kwargs):
        super().__init__(**kwargs)
        self.login = user.login
        self.dashboard_url = app.url_for("Dashboard.show", _full=True)
        self.new_photo_url = app.url_for("Photo.new", _full=True)
