"""Shared by the evaluation tests: the frozen evaluator and the MNIST test split, loaded once per session."""

import pytest

from ganlib.data import load_mnist
from ganlib.evaluation.evaluator import Evaluator


@pytest.fixture(scope="session")
def ev():
    return Evaluator()


@pytest.fixture(scope="session")
def test_set():
    return load_mnist("test")
