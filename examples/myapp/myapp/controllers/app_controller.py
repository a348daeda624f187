"""The base class of every controller."""
from proper import Controller
from proper.concerns import FormValidation, OriginProtection, RateLimiting

from .concerns import Authentication


class AppController(Authentication, OriginProtection, RateLimiting, FormValidation, Controller):
    """Base controller: authentication, cross-site request protection,
    rate limiting and `validate_form`. Actions that skip authentication
    still see `current.user` when a valid session cookie is sent."""

    before = [{"do": "authenticate_if_possible"}]
