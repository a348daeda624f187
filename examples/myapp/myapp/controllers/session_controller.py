"""Signing in and out."""
from proper.units import MINUTES

from ..forms import SignInForm
from ..models import User
from ..router import router
from .app_controller import AppController


@router.resource("sign-in", pk=None)
class SessionController(AppController):
    """`GET /sign-in` (form), `POST /sign-in`, `DELETE /sign-in` (sign out).

    `delete` is not skipped from authentication, so the current session is
    loaded and `terminate_session()` really deletes it from the database.
    """

    skip_authentication = ("new", "create")
    before = [
        {"do": "go_to_dashboard_if_signed_in", "only": ["new", "create"]},
        {"do": "set_form", "only": ["new", "create"]},
        {"do": "validate_form", "only": ["create"]},
    ]
    rate_limit = {
        "to": 5,
        "within": 15 * MINUTES,
        "only": "create",
        "by": lambda self: self.login_param,
        "react_with": "too_many_attempts",
    }

    @property
    def login_param(self) -> str:
        """The normalized login being tried."""
        return User.normalize_login(self.params.get("login") or "")

    def new(self):
        """The sign-in form."""

    def create(self):
        """Start a session and go back where the user wanted to go."""
        self.reset_rate_limit(self.login_param)
        self.new_session_for(self.form.user)
        self.redirect_after_authentication(default="/dashboard", flash="Welcome back!")

    def delete(self):
        """Sign out: delete the session row and the cookie."""
        self.terminate_session()
        self.response.redirect_to("/", flash="You have signed out")

    # Private

    def go_to_dashboard_if_signed_in(self):
        self.redirect_if_authenticated(default="/dashboard")

    def set_form(self):
        self.form = SignInForm(self.params)

    def too_many_attempts(self):
        self.response.status = 429
        self.response.body = self.render(
            text="Too many sign-in attempts. Try again in a few minutes."
        )
