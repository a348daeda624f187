"""Database models: every model is imported here."""
from .base import BaseModel, db  # noqa
