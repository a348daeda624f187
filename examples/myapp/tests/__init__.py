"""MyApp's test suite (unittest + proper_unittest)."""
import os


os.environ.setdefault("APP_ENV", "test")
