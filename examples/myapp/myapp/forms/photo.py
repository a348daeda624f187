"""The form to create and edit photos."""
from proper import forms as f
from proper.forms.attachment_field import AttachmentField

from ..models import Attachment, Photo


class PhotoForm(f.Form):
    """Title (required, at most 120 characters) and an optional caption.

    Bound to `Photo`: `save(owner=user)` creates a row, and a form built
    with an existing photo updates it.
    """

    class Meta:
        orm_cls = Photo
        messages = {
            "required": "Please give your photo a title",
            "max_length": "Must have at most {max_length} characters",
        }

    title = f.TextField(max_length=120)
    caption = f.TextField(required=False, max_length=500)
    cover = AttachmentField(Attachment, required=False, accept=["image/*"], max_size=2_000_000)

    def validate_title(self, value: str) -> str:
        """A title made only of spaces is blank once stripped: still required."""
        if not value:
            raise ValueError("required")
        return value
