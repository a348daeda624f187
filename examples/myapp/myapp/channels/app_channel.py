"""The base class of every channel."""
from proper.channels import Channel

from ..models import Session, User


class AppChannel(Channel):
    """Authenticates the connection from the sign-in cookie at subscription
    time and reloads `current.user` before every action."""

    Session = Session

    def find_user(self, user_id) -> User | None:
        """The connection's user, or `None` if it was deleted."""
        return User.get_or_none(User.id == user_id)
