"""Self-checking exercises: one checker file per lesson, all reached as ``ganlib.checks.check_...``."""

from .core import *  # noqa: F401,F403  (temporary while the checkers move into per-lesson files)
