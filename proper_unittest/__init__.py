"""unittest TestCase classes for Proper apps.

The public API is what this module exports; every other module in the
package is private.
"""
import os

# The app reads APP_ENV when it is created: importing this package first
# (as test modules do) is enough. An explicit other value is kept, and the
# safety checks then refuse to run.
os.environ.setdefault("APP_ENV", "test")

from .channels import ErrorReply, ReceiveTimeout  # noqa: E402
from .client import InMemoryUpload  # noqa: E402
from .errors import ConfigurationError, UnsafeDatabaseError  # noqa: E402
from .overrides import override_cache, override_config  # noqa: E402
from ._timeout import TestTimeout  # noqa: E402
from .testcase import AsyncChannelTestCase, ProperTestCase, ProperTransactionTestCase  # noqa: E402


__all__ = (
    "AsyncChannelTestCase",
    "ConfigurationError",
    "ErrorReply",
    "InMemoryUpload",
    "ProperTestCase",
    "ProperTransactionTestCase",
    "ReceiveTimeout",
    "TestTimeout",
    "UnsafeDatabaseError",
    "override_cache",
    "override_config",
)
