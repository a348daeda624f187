"""The journal app: templates, redirect chains, tasks and broadcasts, for
the assertion and flight-recorder tests."""
import datetime as dt

import peewee as pw
from proper import App, Controller, ProperModel
from proper.emails import EmailMessage

from tests.support.apps.testdb import app_config


app = App(__name__, config=app_config("journal"))
router = app.router
db = app.db["main"]


class Entry(ProperModel):
    text = pw.CharField()
    created_at = pw.DateTimeField(null=True)

    class Meta:
        database = db


class Tag(ProperModel):
    entry = pw.ForeignKeyField(Entry, backref="tags", on_delete="CASCADE")
    name = pw.CharField()

    class Meta:
        database = db


class EntryEmail(EmailMessage):
    subject = "New entry"

    def __init__(self, entry, **kwargs):
        super().__init__(**kwargs)
        self.body = f"Entry: {entry.text}"


@app.queue.task()
def index_entry(entry_id, reason="new"):
    """Marks the entry as indexed; enqueues a follow-up for "chain"."""
    entry = Entry.get_by_id(entry_id)
    entry.text = f"{entry.text} [indexed:{reason}]"
    entry.save()
    if reason == "chain":
        index_entry(entry_id, reason="again")
    return entry.text


@app.queue.task()
def failing_task():
    """Always fails."""
    raise RuntimeError("the task failed on purpose")


class EntriesController(Controller):
    @router.get("entries")
    def index(self):
        self.entries = list(Entry.select().order_by(Entry.id))
        # One query per entry for its tags: an N+1, for the recorder tests.
        self.tag_counts = {entry.id: entry.tags.count() for entry in self.entries}
        return self.render("entries/index.jx")

    @router.post("entries")
    def create(self):
        entry = Entry.create(text=self.params["text"], created_at=dt.datetime.now())
        if self.params.get("mail"):
            EntryEmail(entry).send(to=self.params["mail"])
        index_entry(entry.id)
        self.app.cable.broadcast("entries", {"id": entry.id, "text": entry.text})
        self.response.redirect_to(f"/entries/{entry.id}")

    @router.get("entries/:id<int>")
    def show(self):
        self.entry = Entry.get_by_id(self.params["id"])
        return self.render("entries/show.jx")

    @router.get("now")
    def now(self):
        return self.render(text=dt.datetime.now(dt.timezone.utc).isoformat())

    @router.get("hop/:n<int>")
    def hop(self):
        count = self.params["n"]
        self.response.redirect_to(f"/hop/{count - 1}" if count > 0 else "/entries")

    @router.get("loop")
    def loop(self):
        self.response.redirect_to("/loop")

    @router.post("keep")
    def keep(self):
        self.response.redirect_to("/kept", status=307)

    @router.post("kept")
    def kept(self):
        return self.render(text=f"kept {self.params.get('text', '')}")

    @router.get("fail-task")
    def fail_task(self):
        failing_task()
        return self.render(text="queued")
