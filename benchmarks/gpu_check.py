"""The GPU check: lessons 02, 03 and 05 executed in ``full`` mode on a GPU, with their speed and final numbers.

The course's machines have no GPU, so ``full`` mode's sizes are proven on the CPU (``tests/test_full_mode.py``)
but its speed and results are not. Run this once where a GPU is at hand (one command, under ten minutes on
an H100-class card)::

    python benchmarks/gpu_check.py --json benchmarks/results/gpu_check_<card>.jsonl

Each notebook runs end to end through nbclient, as the tests run them, with ``GANLIB_MODE=full``. Lesson 02
takes ``full`` mode's counts too (20,000 steps); lessons 03 and 05 train four models of 20,000 steps each in
``full`` mode, more than the ten minutes, so by default they keep ``full`` sizes with ``cpu`` mode's counts
(``GANLIB_COUNTS=cpu``: 1,000 and 400 steps per model). ``--counts full`` runs all three entirely (about half
an hour). For each lesson the script records:

* the wall time of the notebook and, from each training cell's progress line, steps and steps per second;
* the lines that report results (classifier-FID, label accuracy, PSNR / SSIM tables; the stored benchmark
  tables some lessons print, one row per seed, are left out);
* every trainer's FID history, and for lesson 02 the step and the estimated seconds of training at which
  FID first reached the stored ``cpu`` run's final score (:data:`STORED_FID`, on the same 10,000 samples).

It prints a summary and, with ``--json``, appends one line per lesson. Copy the numbers into
``benchmarks/README.md`` ("On a GPU") with the card's name. Without CUDA it refuses to start unless
``--allow-cpu`` is given (with ``--counts smoke`` that is a quick test of the script itself).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from common import append_run, machine_line

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ("02_dcgan", "03_cgan", "05_pix2pix")
DEFAULT_COUNTS = {"02_dcgan": "full", "03_cgan": "cpu", "05_pix2pix": "cpu"}
STORED_FID = {"02_dcgan": 122.23}  # lesson 02's stored cpu run: 3,000 steps, 10,000 samples (notebooks/02_dcgan.ipynb)
RESULT_WORDS = re.compile(r"FID|accuracy|PSNR|SSIM")
PROGRESS = re.compile(r"(\d+)/(\d+) \[([\d:]+)<[^,]*,\s*([\d.]+)\s*(s/step|step/s)")
PROBE = '''import json as _json, ganlib as _ganlib
print("GPU_CHECK_PROBE " + _json.dumps({_name: {"step": _t.step, "fid": [list(map(float, v)) for v in _t.history["fid"]]
        if "fid" in _t.history else None} for _name, _t in list(globals().items()) if isinstance(_t, _ganlib.Trainer)}))
'''


def _seconds(clock: str) -> int:
    parts = [int(p) for p in clock.split(":")]
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))


def read_outputs(nb: nbformat.NotebookNode) -> tuple[list[dict], list[str], dict]:
    """Progress lines (steps, seconds, steps per second), result lines and the probe's trainers, from outputs."""
    progress, results, trainers = [], [], {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            lines = out.get("text", "").splitlines() if out.get("output_type") == "stream" else []
            if lines and "seed" in lines[0].split():
                continue  # a stored benchmark table the lesson prints (one row per seed), not this run's numbers
            table = any("PSNR" in line for line in lines)  # a results table: keep every row
            for line in lines:
                if line.startswith("GPU_CHECK_PROBE "):
                    trainers = json.loads(line[len("GPU_CHECK_PROBE "):])
                elif (m := PROGRESS.search(line)) and "%|" in line:
                    rate = float(m[4]) if m[5] == "step/s" else 1 / float(m[4])
                    progress.append(dict(steps=int(m[1]), seconds=_seconds(m[3]), steps_per_s=round(rate, 2)))
                elif table or RESULT_WORDS.search(line):
                    results.append(line.rstrip())
    return progress, results, trainers


def time_to_fid(trainers: dict, progress: list[dict], target: float) -> dict | None:
    """The first recorded step where a trainer's FID reached ``target``, and the training seconds it took."""
    rate = progress[0]["steps_per_s"] if progress else None
    for name, t in trainers.items():
        if not t["fid"]:
            continue
        for step, value in zip(*t["fid"]):
            if value <= target:
                return dict(trainer=name, target=target, step=int(step), fid=round(value, 2),
                            seconds=round(step / rate, 1) if rate else None)
    return None


def run_lesson(name: str, counts: str, timeout: int) -> dict:
    env = dict(GANLIB_MODE="full", GANLIB_WIDGETS="static")
    if counts != "full":
        env["GANLIB_COUNTS"] = counts
    saved = {k: os.environ.get(k) for k in (*env, "GANLIB_COUNTS")}
    os.environ.pop("GANLIB_COUNTS", None)
    os.environ.update(env)
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    start = time.perf_counter()
    error = None
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as e:  # keep what ran: the outputs up to the failing cell are still worth reading
        error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    finally:
        for k, v in saved.items():  # the environment as it was
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    seconds = time.perf_counter() - start
    progress, results, trainers = read_outputs(nb)
    found = dict(lesson=name, counts=counts, seconds=round(seconds, 1), error=error, progress=progress,
                 results=results, trainers=trainers)
    if name in STORED_FID:
        found["time_to_stored_fid"] = time_to_fid(trainers, progress, STORED_FID[name])
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lessons", nargs="+", default=list(LESSONS), choices=list(LESSONS))
    p.add_argument("--counts", choices=["default", "full", "cpu", "smoke"], default="default",
                   help="whose counts to run at full sizes (default: full for 02, cpu for 03 and 05)")
    p.add_argument("--timeout", type=int, default=900, help="seconds allowed per notebook cell")
    p.add_argument("--allow-cpu", action="store_true", help="run without CUDA (to test the script)")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per lesson to this file")
    args = p.parse_args()
    if not torch.cuda.is_available() and not args.allow_cpu:
        sys.exit("gpu_check: no CUDA device here; this check is for a GPU (--allow-cpu --counts smoke tests the script).")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    card = torch.cuda.get_device_name(0) if device == "cuda" else "no GPU"
    print(machine_line(device), "·", card, flush=True)
    for name in args.lessons:
        counts = DEFAULT_COUNTS[name] if args.counts == "default" else args.counts
        found = run_lesson(name, counts, args.timeout)
        found.update(device=card, torch=torch.__version__)
        print(f"\n== {name}: full sizes, {counts} counts, {found['seconds']:.0f} s" + (f"  FAILED {found['error']}" if found["error"] else ""))
        for row in found["progress"]:
            print(f"  trained {row['steps']:,} steps in {row['seconds']} s: {row['steps_per_s']} steps/s")
        for line in found["results"]:
            print("  " + line)
        if found.get("time_to_stored_fid"):
            t = found["time_to_stored_fid"]
            print(f"  FID {t['fid']} <= the stored cpu run's {t['target']} at step {t['step']:,} (~{t['seconds']} s of training)")
        append_run(args.json, found)


if __name__ == "__main__":
    main()
