"""Chat rooms over WebSockets."""
from proper import current

from ..models import Message
from ..router import router
from .app_channel import AppChannel


def stream_for(room: str) -> str:
    """The broadcast stream of a room."""
    return f"chat:{room}"


@router.channel()
class ChatChannel(AppChannel):
    """Subscribe with `{"room": "general"}`; signed-in users only.

    Action `speak({"message": ...})` saves a `Message` and broadcasts
    `{"user": login, "message": text}` to everyone in the room.
    """

    def subscribed(self):
        """Join the room's stream, or reject anonymous users and unknown rooms."""
        room = self.params.get("room")
        if not self.authenticated or room not in Message.ROOMS:
            self.reject()
            return
        self.room = room
        self.stream_from(stream_for(room))

    def speak(self, data: dict):
        """Save and broadcast a message; empty messages get an error back."""
        text = str(data.get("message") or "").strip()[: Message.MAX_LENGTH]
        if not text:
            self.send({"error": "empty message"})
            return
        user = current.user
        Message.create(user=user, room=self.room, body=text)
        self.broadcast(stream_for(self.room), {"user": user.login, "message": text})
