"""Forms (formidable) used by the controllers."""
from .photo import PhotoForm  # noqa: F401
from .session import SignInForm  # noqa: F401
from .sign_up import SignUpForm  # noqa: F401
