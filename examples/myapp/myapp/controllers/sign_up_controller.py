"""Creating an account."""
from ..emails import WelcomeEmail
from ..forms import SignUpForm
from ..models import User
from ..router import router
from .app_controller import AppController


@router.resource("sign-up", pk=None)
class SignUpController(AppController):
    """`GET /sign-up` (form) and `POST /sign-up`."""

    skip_authentication = True
    before = [
        {"do": "go_to_dashboard_if_signed_in"},
        {"do": "set_form"},
        {"do": "validate_form", "only": ["create"]},
    ]

    def new(self):
        """The sign-up form."""

    def create(self):
        """Create the user, send the welcome email and sign them in."""
        data = self.form.save()
        user = User.create(login=data["login"], password=data["password1"])
        WelcomeEmail(user).send_later(to=user.email)
        self.new_session_for(user)
        self.response.redirect_to("Dashboard.show", flash="Welcome to MyApp!")

    # Private

    def go_to_dashboard_if_signed_in(self):
        self.redirect_if_authenticated(default="/dashboard")

    def set_form(self):
        self.password_minlen = self.app.config.AUTH_PASSWORD_MINLEN
        self.form = SignUpForm(self.params)
