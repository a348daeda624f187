"""The base class of every model, bound to the app's main database."""
from proper import ProperModel

from ..main import db


class BaseModel(ProperModel):
    class Meta:
        database = db
