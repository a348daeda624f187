"""The MyApp application object.

Importing this module builds the app and then registers every route,
channel and background task, so `myapp.main:app` is ready to serve.
"""
from proper import App

from . import config


app = App(__name__, config=config)
auth = app.auth
db = app.db["main"]

# Imported last: these modules import `app` from here.
from . import controllers, channels, tasks  # noqa: E402,F401
