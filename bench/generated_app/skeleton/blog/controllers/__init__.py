"""Controllers: importing this package registers every route."""
from . import pages_controller  # noqa
