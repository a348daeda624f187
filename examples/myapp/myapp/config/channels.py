"""WebSocket settings: in-process cable everywhere but production."""
import os


env = os.getenv("APP_ENV", "dev")

CABLE_PATH = "/cable"
CABLE: dict = {}

if env == "prod":
    CABLE = {
        "type": "proper.channels.RedisCable",
        "url": os.getenv("REDIS_URL", "redis://localhost:6379/0"),
        "prefix": "myapp:cable:",
    }
