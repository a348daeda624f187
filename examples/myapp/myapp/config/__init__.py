"""App settings. `APP_ENV` ("dev", "test" or "prod") selects the variants."""
from .auth import *  # noqa: F401,F403
from .channels import *  # noqa: F401,F403
from .database import *  # noqa: F401,F403
from .main import *  # noqa: F401,F403
from .storage import *  # noqa: F401,F403
