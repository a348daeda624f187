"""MyApp: a small photo-sharing app built with Proper.

Importing the package (or any of its modules) builds the app first, so
models, controllers, channels and tasks always find `myapp.main.app`.
"""
from .main import app  # noqa: F401
