"""The sign-in form."""
from proper import forms as f

from ..models import User


ERROR_CREDENTIALS = "credentials"


class SignInForm(f.Form):
    """Login and password; valid only if they match an existing user."""

    class Meta:
        messages = {
            "required": "This field is required",
            ERROR_CREDENTIALS: "Wrong email or password",
        }

    login = f.TextField()
    password = f.TextField(strip=False)

    def after_validate(self) -> bool:
        """Check the credentials; stores the matching user in `self.user`."""
        self.user = User.authenticate(self.login.value, self.password.value)
        if self.user is None:
            self.password.error = ERROR_CREDENTIALS
            return False
        return True
