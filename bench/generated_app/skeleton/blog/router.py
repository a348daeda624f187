"""The app's router."""
from .main import app


router = app.router
