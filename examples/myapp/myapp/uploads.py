"""Helpers for files uploaded with multipart forms."""
from proper.core.request.formparser import MultipartPart


def get_upload(form, name: str) -> MultipartPart | None:
    """The (last) file uploaded as `name`, or `None` if no file was chosen."""
    value = form.get(name)
    if isinstance(value, MultipartPart) and value.filename:
        return value
    return None


def is_image(upload: MultipartPart) -> bool:
    """Whether the browser says the file is an image."""
    return (upload.content_type or "").startswith("image/")


def close_uploads(form) -> None:
    """Close every uploaded file of a request (Proper leaves them open)."""
    for _key, values in form.items():
        for value in values:
            if isinstance(value, MultipartPart):
                value.close()
