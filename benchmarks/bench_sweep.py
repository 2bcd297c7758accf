"""Wall time of an experiment's sweep: the batchnorm experiment's runs serially, then on 2 worker processes.

    make bench        # or: python benchmarks/bench_sweep.py [--quick] [--workers 2] [--experiment batchnorm]

The batchnorm experiment is 20 weight scales x 2 networks x 3 repeats = 120 independent runs (the
course's sweep, 1,000 Fashion-MNIST images each); every run is single-threaded (BLAS threads fixed
at 1 by the runner in every backend), so N workers on N cores should approach N x. Prints both wall
times, the speedup, the BLAS kernel in use, and checks that both backends gave the same results
(the runner's promise: where a run executes never changes what it returns). ``--quick`` runs the
seconds-long synthetic version instead (no download). Target (issue 10): close to 2x on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import blas_report  # noqa: E402
from scratchnn.experiments import run_experiment  # noqa: E402


def timed(name: str, quick: bool, out: Path, **where: object) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    results, _ = run_experiment(name, quick=quick, out=out, **where)  # type: ignore[arg-type]
    return time.perf_counter() - start, {k: v for k, v in results.items() if k != "runtime_s"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="batchnorm", help="the experiment to time (default: batchnorm)")
    parser.add_argument("--quick", action="store_true", help="the quick version (synthetic data, seconds)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the parallel run (default: 2)")
    args = parser.parse_args()
    print(blas_report())
    with tempfile.TemporaryDirectory() as tmp:
        serial_s, serial = timed(args.experiment, args.quick, Path(tmp) / "serial", backend="serial")
        runs = len(os.listdir(Path(tmp) / "serial" / "runs"))
        procs_s, procs = timed(
            args.experiment, args.quick, Path(tmp) / "procs", backend="processes", workers=args.workers
        )
    version = "quick" if args.quick else "full"
    print(f"\n{args.experiment} ({version}), {runs} runs, 1 BLAS thread each, {os.cpu_count()} CPUs:")
    print(f"  serial (this process)       {serial_s:7.1f} s")
    print(f"  {args.workers} worker processes          {procs_s:7.1f} s")
    print(f"  speedup                     {serial_s / procs_s:7.2f}x (target: close to {args.workers}x)")
    print(f"  same results in both: {'yes' if procs == serial else 'NO'}")
    if procs != serial:
        sys.exit(1)


if __name__ == "__main__":
    main()
