"""Offline task sets made from the shipped MNIST, and checked downloads of the papers' datasets (lessons 05, 06).

download (the registry of remote archives, SHA-256-checked) -> translation (tops2digits,
edges2digits, thin2thick, image folders).
"""

from . import download, translation

__all__ = ["download", "translation"]
