"""Controllers. Importing this package registers every route."""
from . import (  # noqa: F401
    dashboard_controller,
    pages_controller,
    photo_controller,
    room_controller,
    session_controller,
    sign_up_controller,
    storage_controller,
)
from .api import photo_controller as api_photo_controller  # noqa: F401
