"""Database models. Every concrete model is imported here."""
from .base import BaseModel, db  # noqa: F401
from .user import User  # noqa: F401
from .session import Session  # noqa: F401
from .attachment import Attachment  # noqa: F401
from .photo import Photo  # noqa: F401
from .message import Message  # noqa: F401
