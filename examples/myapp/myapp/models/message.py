"""Chat messages."""
import peewee as pw

from .base import BaseModel
from .user import User


class Message(BaseModel):
    """Something a user said in a chat room."""

    ROOMS = ("general", "random")
    MAX_LENGTH = 500

    user = pw.ForeignKeyField(User, backref="messages", on_delete="CASCADE")
    room = pw.CharField(max_length=50, index=True)
    body = pw.TextField()
    created_at = pw.DateTimeField(default=pw.utcnow)

    class Meta:
        table_name = "message"

    @classmethod
    def recent(cls, room: str, limit: int = 50):
        """The last `limit` messages of a room, oldest first."""
        query = (
            cls.select()
            .where(cls.room == room)
            .order_by(cls.id.desc())
            .limit(limit)
        )
        return list(reversed(list(query)))
