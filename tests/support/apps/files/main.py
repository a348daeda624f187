"""An app with Proper's storage addon as its generator sets it up: a Disk
service for tests at ``temp/storage`` and an Attachment model."""
import os

from proper import App, Controller, ProperModel

from tests.support.apps.testdb import database_config


app = App(__name__, config={
    "SECRET_KEYS": ["files-" + "x" * 60],
    "DATABASES": {"main": database_config(os.environ.get("FILES_DB_NAME", "files_test"))},
    "STORAGES": {
        "local": {"type": "Disk", "root": "storage/"},
        "test": {"type": "Disk", "root": "temp/storage"},
    },
    "STORAGE": "test",
})
router = app.router


class BaseModel(ProperModel):
    class Meta:
        database = app.db["main"]


class Attachment(app.attachment_for(BaseModel)):
    pass


class FilesController(Controller):
    @router.post("files")
    def create(self):
        upload = self.request.form.get("file")
        attachment = Attachment(upload)
        attachment.save()
        return self.render(text=attachment.id)

    @router.get("files/:id")
    def show(self):
        attachment = Attachment.get_or_none(Attachment.id == self.params["id"])
        if attachment is None:
            self.response.status = 404
            return self.render(text="gone")
        return self.render(text=str(attachment.service._get_path(attachment)))
