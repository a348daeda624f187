"""What the generated conftest's fixtures give, as methods of a base class."""
from unittest import mock

from proper_unittest import ProperTestCase

from blog.forms.auth import validators
from blog.models import User


class BlogTestCase(ProperTestCase):
    """Base class of the ported tests (the app comes from setup.cfg)."""

    def signed_client(self):
        """The generated `signed_client` fixture: a new user, signed in."""
        user = User.create(login="testuser", password="password123")
        self.sign_in(user)
        return self.client

    def stub_pwned_api(self, count=0):
        """The generated `stub_pwned_api` fixture: the "Have I been pwned?"
        API answers `count` without a request, for this test."""
        self.enterContext(
            mock.patch.object(validators, "get_pwned_count", lambda *args, **kwargs: count)
        )
