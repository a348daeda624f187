"""The notes app: models, controllers, a channel and a task in one module."""
import asyncio
import os
import threading

import peewee as pw
from proper import App, Channel, Controller, ProperModel, current
from proper.concerns import Authentication
from proper.emails import EmailMessage

from tests.support.apps.testdb import app_config


app = App(__name__, config=app_config(
    "notes", **({"autoconnect": False} if os.environ.get("NOTES_AUTOCONNECT_OFF") else {})))
router = app.router
db = app.db["main"]


class BaseModel(ProperModel):
    class Meta:
        database = db


class Named(BaseModel):
    """A concern: a base class that must not get a table of its own."""
    name = pw.CharField(unique=True)


class User(Named):
    pass


class Session(BaseModel):
    token = pw.CharField(unique=True)
    user = pw.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")

    @classmethod
    def create_for_user(cls, user, **kwargs):
        import secrets
        return cls.create(user=user, token=secrets.token_urlsafe(16))

    @classmethod
    def find_by_token(cls, token):
        return cls.get_or_none(cls.token == token)

    def touch(self):
        pass


class Note(BaseModel):
    title = pw.CharField(unique=True)


class NoteEmail(EmailMessage):
    subject = "A note"

    def __init__(self, note, **kwargs):
        super().__init__(**kwargs)
        self.body = f"New note: {note.title}"


@app.queue.task()
def count_note(title):
    """A background task: stores a marker note."""
    Note.create(title=f"counted:{title}")
    return title.upper()


@app.queue.task()
def refuse_note(title):
    """A background task that always fails (its error path is tested)."""
    raise ValueError(f"refused note {title!r}")


class NotesController(Controller):
    @router.get("notes")
    def index(self):
        return self.render(text=",".join(n.title for n in Note.select().order_by(Note.id)))

    @router.post("notes")
    def create(self):
        note = Note.create(title=self.params["title"])
        if self.params.get("mail"):
            NoteEmail(note).send(to=self.params["mail"])
        if self.params.get("count"):
            count_note(note.title)
        if self.params.get("refuse"):
            refuse_note(note.title)
        self.app.cable.broadcast("notes", {"title": note.title})
        self.response.redirect_to(f"/notes/{note.id}")

    @router.get("notes/:id<int>")
    def show(self):
        note = Note.get_or_none(Note.id == self.params["id"])
        if note is None:
            self.response.status = 404
            return self.render(text="no such note")
        return self.render(text=note.title)

    @router.post("api/notes")
    def api_create(self):
        note = Note.create(title=self.request.form["title"])
        return self.render(json={"id": note.id, "title": note.title}, status=201)

    @router.get("go")
    def go(self):
        """Redirects to the `to` parameter, whatever it is (assertRedirects' tests)."""
        self.response.redirect_to(self.params["to"])

    @router.get("api/status")
    def api_status(self):
        """Numbers where a client might expect booleans (JSON comparison tests)."""
        return self.render(json={"ok": 1, "count": 1.0, "flags": [0, True]})

    @router.get("boom")
    def boom(self):
        raise ValueError("kaboom from the notes app")

    @router.get("png")
    def png(self):
        self.response.mimetype = "image/png"
        return b"\x89PNG\r\n\x1a\n\x00\xff"

    @router.post("upload")
    def upload(self):
        parts = self.request.form.getall("file")
        return self.render(text=";".join(f"{p.filename}:{p.size}:{p.content_type}" for p in parts))

    @router.get("visits")
    def visits(self):
        count = self.app.cache.get("visits") or 0
        self.app.cache.set("visits", count + 1)
        return self.render(text=str(count + 1))

    @router.get("flag")
    def flag(self):
        return self.render(text=str(self.app.config.get("NOTES_FLAG", "unset")))

    @router.get("remember")
    def remember(self):
        max_age = self.params.get("max_age")
        self.response.set_cookie(
            "color", self.params.get("color", "blue"),
            max_age=None if max_age is None else int(max_age),
        )
        return self.render(text="ok")

    @router.get("forget")
    def forget(self):
        self.response.unset_cookie("color")
        return self.render(text="ok")

    @router.get("cookies")
    def cookies(self):
        return self.render(text=self.request.headers.get("cookie", ""))

    @router.get("current")
    def current_value(self):
        return self.render(text=repr(getattr(current, "marker", None)))


class AccountController(Controller, Authentication):
    Session = Session

    @router.get("me")
    def me(self):
        return self.render(text=current.user.name)

    @router.get("sign-in", name="Session.new")
    def sign_in_page(self):
        return self.render(text="sign in")


class NotesChannel(Channel):
    Session = Session

    def find_user(self, user_id):
        return User.get_or_none(User.id == user_id)

    def subscribed(self):
        if self.params.get("room") == "closed":
            return self.reject()
        if self.params.get("room") == "members" and not current.user:
            return self.reject()  # how a Proper channel turns away anonymous users
        self.stream_from(f"room:{self.params['room']}")
        self.send({"hello": current.user.name if current.user else None})

    def post(self, data):
        note = Note.create(title=data["title"])
        self.broadcast(f"room:{self.params['room']}", {"title": note.title, "id": note.id})


router.channel()(NotesChannel)


class GoodbyeChannel(Channel):
    """Writes a note when a connection leaves (tests of sessions left open)."""

    def subscribed(self):
        self.stream_from("goodbye")

    def unsubscribed(self):
        Note.create(title=f"goodbye {id(self)}")


router.channel()(GoodbyeChannel)


class Gate:
    """Holds a WorkerChannel.hold action in its worker thread until the test
    opens it (tests of channel code that blocks)."""

    def __init__(self):
        self.entered = threading.Event()  # the action waits at the gate
        self.opened = threading.Event()   # the test let it go on
        self.done = threading.Event()     # it finished, whatever happened
        self.errors = []                  # what its steps after the gate raised


GATES: dict[str, Gate] = {}


class WorkerChannel(Channel):
    """Channel code as production runs it, in a worker thread: it says which
    thread, runs a coroutine with asyncio.run(), or blocks at a gate."""

    def subscribed(self):
        self.stream_from("worker")

    def where(self, data):
        self.send({"thread": threading.current_thread().name})

    def nested(self, data):
        async def double(n):
            await asyncio.sleep(0)
            return n * 2

        result = asyncio.run(double(data["n"]))
        note = Note.create(title=f"nested {result}")
        self.send({"result": result, "id": note.id})

    def hold(self, data):
        gate = GATES[data["gate"]]
        try:
            gate.entered.set()
            gate.opened.wait(data.get("seconds", 30))
            for step in data.get("then", ["write"]):
                try:
                    if step == "write":
                        Note.create(title=data.get("title", f"after {data['gate']}"))
                    else:
                        self.broadcast("worker", {"late": data["gate"]})
                except Exception as error:
                    gate.errors.append(error)
        finally:
            gate.done.set()


router.channel()(WorkerChannel)
