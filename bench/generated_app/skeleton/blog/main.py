"""The application object."""
from proper import App

from . import config as settings


app = App(__name__, config=settings)
config = app.config
db = app.db["main"]
