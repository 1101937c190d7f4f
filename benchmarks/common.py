"""What the benchmark scripts share: the line naming the machine that heads their output, and one JSON line
per run appended to a results file (``--json``), written as soon as the run ends.

The scripts are run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path`` and they import
it as ``common``.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import torch


def machine_line(device: str = "cpu", threads: int | None = None) -> str:
    """``host · processor · cores · torch version · device · threads``: quote it with the numbers."""
    return (f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
            f"torch {torch.__version__} · {device} · threads {threads or torch.get_num_threads()}")


def append_run(path: Path | None, result: dict[str, Any]) -> None:
    """Append ``result`` as one JSON line to ``path`` (nothing when ``path`` is None)."""
    if path is not None:
        with open(path, "a") as f:
            f.write(json.dumps(result) + "\n")
