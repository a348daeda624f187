"""Proper's authentication concern wired to our `Session` model."""
from proper.concerns import Authentication as ProperAuthentication

from ...models import Session


class Authentication(ProperAuthentication):
    """Every action requires a signed-in user unless `skip_authentication`
    lists it. Anonymous requests are redirected (303) to `Session.new`."""

    Session = Session

    def authenticate_if_possible(self):
        """On public actions too, load the signed-in user (if any), so pages
        can tell visitors from owners."""
        if not self.is_authenticated():
            self._resume_session()
