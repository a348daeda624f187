"""App settings; APP_ENV ("dev", "test" or "prod") selects the variants."""
from .main import *  # noqa
