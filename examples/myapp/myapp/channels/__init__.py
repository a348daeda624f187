"""WebSocket channels. Importing this package registers them."""
from . import chat_channel  # noqa: F401
