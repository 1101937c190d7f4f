"""The ganlib package itself: its public names and version."""

import importlib

import ganlib


def test_public_names_resolve():
    for name in ganlib.__all__:
        assert getattr(ganlib, name) is not None, name
    assert ganlib.__version__ == "0.1.0"
    assert ganlib.Trainer is ganlib.training.Trainer and ganlib.load_mnist is ganlib.data.load_mnist


def test_every_module_is_documented():
    for name in ("checks", "config", "data", "evaluator", "losses", "metrics", "models", "plotting", "shapes", "training",
                 "utils", "widgets", "download", "translation", "translation_data", "wgan"):
        module = importlib.import_module(f"ganlib.{name}")
        assert module.__doc__ and len(module.__doc__.strip()) > 20, name
