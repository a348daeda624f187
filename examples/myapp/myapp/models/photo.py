"""Photos and their (optional) uploaded image file."""
import re
import shutil
from pathlib import Path

import peewee as pw

from .attachment import Attachment
from .base import BaseModel
from .user import User


def safe_filename(filename: str | None) -> str:
    """Keep only the base name of an uploaded file, with safe characters."""
    name = Path((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return name[:200] or "upload"


class Photo(BaseModel):
    """A titled photo posted by a user, with image file metadata."""

    title = pw.CharField(max_length=120)
    caption = pw.TextField(default="")
    image_filename = pw.CharField(max_length=255, null=True)
    image_size = pw.IntegerField(null=True)
    image_content_type = pw.CharField(max_length=100, null=True)
    thumbnail = pw.CharField(max_length=255, null=True)
    # The cover image, stored by Proper's storage addon.
    cover = pw.ForeignKeyField(Attachment, null=True, on_delete="SET NULL")
    owner = pw.ForeignKeyField(User, backref="photos", on_delete="CASCADE")
    created_at = pw.DateTimeField(default=pw.utcnow)

    class Meta:
        table_name = "photo"

    @property
    def has_image(self) -> bool:
        """Whether an image file was uploaded."""
        return bool(self.image_filename)

    def image_path(self, root: str | Path) -> Path | None:
        """Where the image file is stored under `root`, if there is one."""
        if not self.image_filename:
            return None
        return Path(root) / str(self.id) / self.image_filename

    def attach_image(self, upload, root: str | Path) -> Path:
        """Store an uploaded file (a multipart part) under `root/<id>/`,
        record its name, size and content type, and save the row."""
        self.remove_image(root)
        name = safe_filename(upload.filename)
        data = upload.raw
        path = Path(root) / str(self.id) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.image_filename = name
        self.image_size = len(data)
        self.image_content_type = upload.content_type or "application/octet-stream"
        self.save()
        return path

    def remove_image(self, root: str | Path) -> None:
        """Delete this photo's stored files (not the row)."""
        shutil.rmtree(Path(root) / str(self.id), ignore_errors=True)

    def to_dict(self) -> dict:
        """The JSON representation used by the API."""
        image = None
        if self.has_image:
            image = {
                "filename": self.image_filename,
                "size": self.image_size,
                "content_type": self.image_content_type,
            }
        return {
            "id": self.id,
            "title": self.title,
            "caption": self.caption,
            "owner": self.owner.login,
            "image": image,
            "thumbnail": self.thumbnail,
            "url": f"/photos/{self.id}",
        }
