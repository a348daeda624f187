"""Photo processing tasks."""
from pathlib import Path

from ..main import app
from ..models import Photo


THUMBNAIL_SIZE = 256


@app.queue.task()
def generate_thumbnail(photo_id: int) -> str | None:
    """Give the photo its (deterministic) thumbnail name and save it.

    Returns the thumbnail name, or `None` if the photo no longer exists.
    """
    photo = Photo.get_or_none(Photo.id == photo_id)
    if photo is None:
        return None
    stem = Path(photo.image_filename).stem if photo.image_filename else "placeholder"
    photo.thumbnail = f"thumbs/{photo.id}/{stem}-{THUMBNAIL_SIZE}.jpg"
    photo.save(only=[Photo.thumbnail])
    return photo.thumbnail
