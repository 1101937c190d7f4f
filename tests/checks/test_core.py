"""ganlib.checks.core and the package: the verdict object, and what every checker does with a function that
is not done, raises, or is not a function at all (all through ``core._call``)."""

import importlib
import pkgutil

import pytest

from ganlib import checks
from ganlib.checks import CheckResult

CHECKERS = [getattr(checks, name) for name in checks.__all__ if name.startswith("check_")]


def test_check_result_truthiness_and_repr():
    ok, bad = CheckResult(True, "all good"), CheckResult(False, "try again")
    assert bool(ok) is True and bool(bad) is False
    assert repr(ok) == "✅ all good" and repr(bad) == "❌ try again"
    assert ok.passed and ok.message == "all good"


def test_every_lesson_file_is_exported():
    """Each check_* defined in a lesson file is reachable as ganlib.checks.check_..., and listed in __all__."""
    defined = set()
    for info in pkgutil.iter_modules(checks.__path__):
        if info.name.startswith("lesson"):
            module = importlib.import_module(f"ganlib.checks.{info.name}")
            defined |= {(name, fn) for name, fn in vars(module).items()
                        if name.startswith("check_") and fn.__module__ == module.__name__}
    assert defined == {(fn.__name__, fn) for fn in CHECKERS}


def _stub(*args):
    raise NotImplementedError("fill in your code")


def _broken(*args):
    raise ZeroDivisionError("oops")


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_not_done_yet(checker):
    result = checker(_stub)
    assert isinstance(result, CheckResult) and not result
    assert result.message.startswith("Not done yet") and "NotImplementedError" in result.message


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_other_error_is_reported(checker):
    result = checker(_broken)
    assert not result and result.message == "Your function raised ZeroDivisionError: oops"


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_not_callable(checker):
    for value in (42, None, "d_step"):
        result = checker(value)
        assert not result
        assert result.message.startswith(f"Expected a function, got {type(value).__name__}.")
        assert "without ()" in result.message
