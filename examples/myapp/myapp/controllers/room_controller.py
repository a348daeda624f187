"""Chat rooms: a page with the recent messages and announcements."""
from proper import current
from proper.errors import NotFound

from ..models import Message
from ..router import router
from .app_controller import AppController


class RoomController(AppController):
    """`GET /rooms/:room` and `POST /rooms/:room/announce` (signed-in only)."""

    before = [{"do": "load_room"}]

    @router.get("rooms/:room")
    def show(self):
        """The room's last messages (new ones arrive through `ChatChannel`)."""
        self.messages = Message.recent(self.room)

    @router.post("rooms/:room/announce")
    def announce(self):
        """Broadcast a message to everyone in the room, without saving it."""
        text = (self.params.get("message") or "").strip()
        if not text:
            return self.render(json={"error": "message is required"}, status=422)
        stream = f"chat:{self.room}"
        self.app.cable.broadcast(
            stream,
            {"user": current.user.login, "message": text, "announcement": True},
        )
        return self.render(json={"stream": stream, "message": text}, status=202)

    # Private

    def load_room(self):
        self.room = self.params.get("room")
        if self.room not in Message.ROOMS:
            raise NotFound()
