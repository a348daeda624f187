"""Emails sent by the app."""
from .base_email import BaseEmail  # noqa
