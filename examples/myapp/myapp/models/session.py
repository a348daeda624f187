"""Server-side sign-in sessions."""
import base64
import secrets
import typing as t
from datetime import timedelta
from hashlib import sha256

import peewee as pw

from .base import BaseModel
from .user import User


def new_token() -> str:
    """A random, URL-safe 256-bit token (43 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


class Session(BaseModel):
    """One signed-in browser. The cookie only carries the opaque `token`."""

    token = pw.CharField(max_length=43, unique=True, default=new_token)
    user = pw.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = pw.DateTimeField(default=pw.utcnow)
    expires_at = pw.DateTimeField(index=True)
    last_seen_at = pw.DateTimeField(default=pw.utcnow)
    ip_address = pw.CharField(max_length=45, null=True)
    user_agent_hash = pw.CharField(max_length=64, default="")

    class Meta:
        table_name = "session"

    @classmethod
    def create_for_user(
        cls,
        user: User,
        *,
        ip_address: str | None = None,
        user_agent: str | None = None,
        remember: bool = True,
    ) -> t.Self:
        """Start a session for `user`: 60 days when remembered, else 24 hours."""
        lifetime = timedelta(days=60) if remember else timedelta(hours=24)
        return cls.create(
            user=user,
            ip_address=ip_address,
            user_agent_hash=sha256(user_agent.encode()).hexdigest() if user_agent else "",
            expires_at=pw.utcnow() + lifetime,
        )

    @classmethod
    def find_by_token(cls, token: str) -> t.Self | None:
        """The unexpired session with this token, or `None`."""
        return (
            cls.select()
            .where((cls.token == token) & (cls.expires_at > pw.utcnow()))
            .first()
        )

    def touch(self) -> None:
        """Record activity now (one UPDATE of `last_seen_at`)."""
        self.last_seen_at = pw.utcnow()
        self.save(only=[Session.last_seen_at])

    @property
    def is_expired(self) -> bool:
        """Whether the session is past its `expires_at`."""
        return self.expires_at <= pw.utcnow()
