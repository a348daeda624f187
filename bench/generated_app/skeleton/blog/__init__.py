"""The app package. Importing any of its modules builds the app and then
registers its routes, so `blog.main:app` is ready to serve."""
from .main import app  # noqa: F401
from . import controllers, tasks  # noqa: F401,E402
