"""The sign-up form."""
from proper import forms as f

from ..main import app
from ..models import User


ERROR_LOGIN_TAKEN = "login_taken"
ERROR_PASSWORD_SHORT = "password_short"
ERROR_PASSWORD_MISMATCH = "password_mismatch"


class SignUpForm(f.Form):
    """Email (unused so far), a long-enough password, and its repetition."""

    class Meta:
        messages = {
            "required": "This field is required",
            "pattern": "Doesn't look like an email address",
            ERROR_LOGIN_TAKEN: "This email is already registered",
            ERROR_PASSWORD_SHORT: "Your password must have at least {minlen} characters",
            ERROR_PASSWORD_MISMATCH: "Passwords don't match",
        }

    login = f.TextField(max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    password1 = f.TextField(strip=False)
    password2 = f.TextField(strip=False)

    def validate_login(self, value: str) -> str:
        """Reject logins that already exist (after normalization)."""
        if User.get_by_login(value):
            raise ValueError(ERROR_LOGIN_TAKEN)
        return User.normalize_login(value)

    def validate_password1(self, value: str) -> str:
        """Enforce `AUTH_PASSWORD_MINLEN`."""
        minlen = app.config.AUTH_PASSWORD_MINLEN
        if len(value) < minlen:
            raise ValueError(ERROR_PASSWORD_SHORT, {"minlen": minlen})
        return value

    def after_validate(self) -> bool:
        """Both passwords must be equal."""
        if self.password1.value != self.password2.value:
            self.password2.error = ERROR_PASSWORD_MISMATCH
            return False
        return True
