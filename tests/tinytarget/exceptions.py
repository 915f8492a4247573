"""websockets' exceptions, unchanged."""

from websockets.exceptions import *  # noqa: F403
from websockets.exceptions import __all__  # noqa: F401
