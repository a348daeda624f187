"""Small helpers to create the rows tests need."""
from pathlib import Path

from myapp.models import Photo, User


PASSWORD = "correct horse battery"
FIXTURES = Path(__file__).parent / "fixtures"
PIXEL_PNG = FIXTURES / "pixel.png"


def make_user(login: str = "alice@example.com", password: str = PASSWORD) -> User:
    """A user who can sign in with `PASSWORD`."""
    return User.create(login=login, password=password)


def make_photo(owner: User, title: str = "Sunset", **fields) -> Photo:
    """A photo owned by `owner`."""
    return Photo.create(owner=owner, title=title, **fields)
