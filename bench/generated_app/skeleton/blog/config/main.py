"""General settings: secrets, database, mailer, queue and cache."""
import os
from pathlib import Path


env = os.getenv("APP_ENV", "dev")
ROOT_PATH = Path(__file__).resolve().parent.parent.parent

DEBUG = env == "dev"
SECRET_KEYS = [os.getenv("SECRET_KEY", "dev-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")]

DATABASES = {
    "main": {
        "type": "playhouse.sqlite_ext.SqliteExtDatabase",
        "database": str(ROOT_PATH / "blog_dev.sqlite3"),
        "pragmas": {"foreign_keys": 1},
    },
}
MAILERS = {
    "console": {"type": "proper.emails.ToConsoleMailer"},
    "memory": {"type": "proper.emails.ToMemoryMailer"},
}
MAILER = "console"
MAILER_DEFAULT_OPTIONS = {"from": "Blog <hello@blog.example.com>"}
QUEUE = {"type": "huey.SqliteHuey", "filename": str(ROOT_PATH / "blog_queue.sqlite3")}
CACHE = {"type": "proper.cache.SqliteCache", "database": str(ROOT_PATH / "blog_cache.sqlite3")}

if env == "test":
    DEBUG = False
    DATABASES["main"] = {
        "type": "playhouse.sqlite_ext.SqliteExtDatabase",
        "database": ":memory:",
    }
    QUEUE = {"type": "huey.MemoryHuey", "immediate": True, "immediate_use_memory": True}
    CACHE = {"type": "proper.cache.NoCache"}
    MAILER = "memory"
