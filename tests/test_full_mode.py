"""``full`` mode proven on a CPU: every lesson executed end to end at ``full`` sizes with smoke's counts.

No machine the course is tested on has a GPU, so ``full`` mode (the paper's widths and batch sizes, all the
data) would otherwise never run before a learner starts it in Colab. Here each notebook runs with
``GANLIB_MODE=full`` and ``GANLIB_COUNTS=smoke``: every size and code path of ``full`` mode, with the step,
sample and second counts of ``smoke`` (``ganlib.config.is_count``), so a shape, dtype or memory mistake that
only ``full`` sizes reveal fails here, in under a minute per lesson. Every lesson's default dataset is an offline
one in every mode; the downloadable sets (facades, horse2zebra, Fashion-MNIST, ...) are not run here (their
loaders are tested with local stand-ins in ``tests/datasets``). What a GPU alone would show (CUDA kernels,
GPU memory) needs a GPU: ``benchmarks/gpu_check.py`` runs lessons 02, 03 and 05 there, by hand.

Outputs are not compared (nbval does that for ``smoke`` mode); a cell that raises fails the test.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_at_full_sizes(path, monkeypatch):
    monkeypatch.setenv("GANLIB_MODE", "full")
    monkeypatch.setenv("GANLIB_COUNTS", "smoke")
    monkeypatch.setenv("GANLIB_WIDGETS", "static")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})  # run from notebooks/, as nbval does
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    print(f"{path.name}: {seconds:.0f} s")
    config = [o["data"]["text/plain"] for c in nb.cells if c.cell_type == "code" and "ganlib.settings(" in c.source
              for o in c.get("outputs", []) if o.get("output_type") == "execute_result"]
    assert config and "run mode: full" in config[0] and "from smoke mode" in config[0], config
