"""Stored files (Proper's storage addon): a photo's cover image."""
from ..main import app
from .base import BaseModel


class Attachment(app.attachment_for(BaseModel)):
    """A stored file. No variants: they need libvips (pyvips)."""

    VARIANTS_ENABLED_FOR: dict = {}
