"""General settings: secrets, mailer, queue, cache and uploads."""
import os
import tempfile
from pathlib import Path


env = os.getenv("APP_ENV", "dev")

ROOT_PATH = Path(__file__).resolve().parent.parent.parent

DEBUG = env == "dev"
HOST = os.getenv("HOST", "localhost:2300")

SECRET_KEYS = [
    os.getenv(
        "SECRET_KEY",
        "dev-only-secret-key-change-me-in-production-3f9c1a7e5b2d4c6a8e0f",
    ),
]

# Where uploaded photo files are stored, one folder per photo.
UPLOADS_DIR = str(ROOT_PATH / "storage" / "uploads")

MAILERS = {
    "console": {"type": "proper.emails.ToConsoleMailer"},
    "memory": {"type": "proper.emails.ToMemoryMailer"},
}
MAILER = "console"
MAILER_DEFAULT_OPTIONS = {"from": "MyApp <hello@myapp.example.com>"}

QUEUE = {
    "type": "huey.MemoryHuey",
    "immediate": True,
    "immediate_use_memory": True,
}
CACHE = {
    "type": "proper.cache.SqliteCache",
    "database": ":memory:",
}

if env == "prod":
    QUEUE = {"type": "huey.SqliteHuey", "filename": str(ROOT_PATH / "myapp_queue.sqlite3")}
    CACHE = {"type": "proper.cache.SqliteCache", "database": str(ROOT_PATH / "myapp_cache.sqlite3")}

if env == "test":
    DEBUG = False
    MAILER = "memory"
    QUEUE = {
        "type": "huey.MemoryHuey",
        "immediate": True,
        "immediate_use_memory": True,
    }
    CACHE = {"type": "proper.cache.NoCache"}
    # Tests point this to a temporary folder of their own.
    UPLOADS_DIR = os.path.join(tempfile.gettempdir(), "myapp-test-uploads")
