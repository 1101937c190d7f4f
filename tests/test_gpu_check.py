"""``benchmarks/gpu_check.py`` reads what the notebooks printed: tested here on hand-made outputs (no GPU, no run)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def gpu_check():
    sys.path.insert(0, str(BENCHMARKS))  # the script imports its sibling ``common``, as when run from the root
    try:
        spec = importlib.util.spec_from_file_location("gpu_check", BENCHMARKS / "gpu_check.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))


def _notebook(*texts: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for text in texts:
        cell = nbformat.v4.new_code_cell("...")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    return nb


def test_reads_progress_results_and_the_probe(gpu_check):
    trainers = {"trainer": {"step": 3000, "fid": [[0, 1000, 2000, 3000], [1359.0, 177.0, 118.0, 90.0]]}}
    nb = _notebook(
        "training: 100%|##########| 3000/3000 [01:15<00:00, 40.00step/s, d_loss=0.354]\n",
        "training: 100%|##########| 400/400 [00:02<00:00,  5.00s/step, g_l1=0.083]\n",
        "classifier-FID 90.00 on 10,000 samples (real digits: 1.41)\nsomething else\n",
        "          PSNR   SSIM\nL1 + cGAN  17.3  0.832\nL1         16.8  0.816\n",
        "model   seed   PSNR   FID\nL1 + cGAN  0  17.33   67.8\n",  # a stored table of seeds: not this run's
        "GPU_CHECK_PROBE " + json.dumps(trainers) + "\n",
    )
    progress, results, found = gpu_check.read_outputs(nb)
    assert progress == [dict(steps=3000, seconds=75, steps_per_s=40.0), dict(steps=400, seconds=2, steps_per_s=0.2)]
    assert results[0].startswith("classifier-FID 90.00") and "something else" not in results
    assert results[-3:] == ["          PSNR   SSIM", "L1 + cGAN  17.3  0.832", "L1         16.8  0.816"]  # every row
    assert not any("67.8" in line for line in results)
    assert found == trainers
    hit = gpu_check.time_to_fid(found, progress, 122.23)
    assert hit == dict(trainer="trainer", target=122.23, step=2000, fid=118.0, seconds=50.0)  # 2,000 steps at 40/s
    assert gpu_check.time_to_fid(found, progress, 10.0) is None


def test_probe_cell_lists_every_trainer_of_a_kernel(gpu_check):
    import ganlib  # the probe runs in the notebook's kernel; here, in this process's globals
    scope = {"trainer_a": ganlib.Trainer.__new__(ganlib.Trainer), "x": 1}
    scope["trainer_a"].step, scope["trainer_a"].history = 5, ganlib.training.History()
    scope["trainer_a"].history.log(0, fid=300.0)
    out = []
    exec(gpu_check.PROBE.replace("print(", "out.append("), {**scope, "out": out})
    line = out[0]
    assert line.startswith("GPU_CHECK_PROBE ")
    assert json.loads(line.split(" ", 1)[1]) == {"trainer_a": {"step": 5, "fid": [[0.0], [300.0]]}}
