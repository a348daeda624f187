"""unittest TestCase classes for Proper apps.

The public API is what this module exports; every other module in the
package is private.
"""
import os
from typing import TYPE_CHECKING, Any

# The app reads APP_ENV when it is created: importing this package first
# (as test modules do) is enough. An explicit other value is kept, and the
# safety checks then refuse to run.
os.environ.setdefault("APP_ENV", "test")

# First: its exit hooks bracket the ones the other modules register.
from proper_unittest.isolation import termination as _termination  # noqa: E402, F401
from proper_unittest.channels.connection import ErrorReply, ReceiveTimeout  # noqa: E402
from proper_unittest.isolation.password_cost import install as _install_password_cost  # noqa: E402
from proper_unittest.client.client import InMemoryUpload  # noqa: E402
from proper_unittest.errors import (  # noqa: E402
    ConfigurationError, MissingDriverError, UnsafeDatabaseError, UnsafeServiceError,
)
from proper_unittest.isolation.network import NetworkBlockedError, allow_network  # noqa: E402
from proper_unittest.isolation.process_state import ProcessStateChanged  # noqa: E402
from proper_unittest.isolation.overrides import override_cache, override_config  # noqa: E402
from proper_unittest.isolation.timeout import TestTimeout  # noqa: E402
from proper_unittest.testcase import (  # noqa: E402
    AsyncChannelTestCase, ProperTestCase, ProperTransactionTestCase,
)

# Before the app is imported, so its Auth hashes at the minimum cost from its
# first hash (see README, "Password hashing").
_install_password_cost()

if TYPE_CHECKING:
    from proper_unittest.system import SystemTestCase


def __getattr__(name: str) -> Any:
    # SystemTestCase needs Playwright (the `system` extra): loaded on
    # first use, so that nothing else in the library imports it.
    if name == "SystemTestCase":
        from proper_unittest.system import SystemTestCase  # noqa: PLC0415

        return SystemTestCase
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = (
    "AsyncChannelTestCase",
    "ConfigurationError",
    "ErrorReply",
    "InMemoryUpload",
    "MissingDriverError",
    "NetworkBlockedError",
    "ProcessStateChanged",
    "ProperTestCase",
    "ProperTransactionTestCase",
    "ReceiveTimeout",
    "SystemTestCase",
    "TestTimeout",
    "UnsafeDatabaseError",
    "UnsafeServiceError",
    "allow_network",
    "override_cache",
    "override_config",
)
