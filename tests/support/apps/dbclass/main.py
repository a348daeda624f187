"""An app on TEST_DATABASE_URL's server whose database class is
DBCLASS_TYPE (e.g. a pooled class, or psycopg 3's), in DBCLASS_DB_NAME."""
import os

import peewee as pw
from proper import App, Controller, ProperModel

from tests.support.apps.testdb import database_config


app = App(__name__, config={
    "SECRET_KEYS": ["dbclass-" + "x" * 60],
    "DATABASES": {"main": {
        **database_config(os.environ.get("DBCLASS_DB_NAME", "dbclass_test")),
        "type": os.environ["DBCLASS_TYPE"],
    }},
})
router = app.router


class Item(ProperModel):
    name = pw.CharField(unique=True)

    class Meta:
        database = app.db["main"]


class ItemsController(Controller):
    @router.post("items")
    def create(self):
        Item.create(name=self.params["name"])
        return self.render(text=str(Item.select().count()), status=201)
