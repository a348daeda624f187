"""Controller concerns specific to this app."""
from .authentication import Authentication  # noqa: F401
