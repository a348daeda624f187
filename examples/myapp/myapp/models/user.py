"""Users of the app."""
import peewee as pw

from .base import BaseModel
from .concerns.authenticable import Authenticable


class User(Authenticable, BaseModel):
    """A person who can sign in, post photos and chat. Logins are emails."""

    created_at = pw.DateTimeField(default=pw.utcnow)

    class Meta:
        table_name = "user"

    @property
    def email(self) -> str:
        """Logins are email addresses."""
        return self.login

    def __str__(self) -> str:
        return self.login
