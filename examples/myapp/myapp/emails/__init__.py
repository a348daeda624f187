"""Emails sent by the app."""
from .base_email import BaseEmail  # noqa: F401
from .welcome_email import WelcomeEmail  # noqa: F401
