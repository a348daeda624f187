"""Chat rooms: a page with the recent messages and announcements."""
from markupsafe import Markup
from proper import current, turbo_stream
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

    @router.post("rooms/:room/messages")
    def create_message(self):
        """Post a message. A Turbo request gets a Turbo Stream that appends it
        to the list and updates the count; the same append is broadcast to
        `turbo:<room>` for the others. Without Turbo: back to the room."""
        text = (self.params.get("message") or "").strip()
        if not text:
            return self.render(text="message is required", status=422)
        message = Message.create(user=current.user, room=self.room, body=text)
        item = Markup('<li id="message-{}"><strong>{}</strong>: {}</li>').format(
            message.id, current.user.login, message.body
        )
        append = turbo_stream.append("messages", html=item)
        self.app.cable.broadcast(f"turbo:{self.room}", str(append))
        if not self.request.turbo_stream:
            return self.response.redirect_to(f"/rooms/{self.room}")
        count = Message.select().where(Message.room == self.room).count()
        return self.render(stream=[append, turbo_stream.update("message-count", html=str(count))])

    # Private

    def load_room(self):
        self.room = self.params.get("room")
        if self.room not in Message.ROOMS:
            raise NotFound()
