"""Times lrmsuite calls against the core's own compute time within them (benchmarks/python/run.sh).
The data are random (no unit is selective; the PLS targets are a noisy linear map of the
features), made once per run with a fixed seed."""
import argparse
import os
import statistics
import time

import numpy as np

import lrmsuite
from lrmsuite import _core


def timed(call, repeats):
    call()  # untimed: the first call imports xarray (about 0.5 s, once per process)
    wall, core = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        wall.append(time.perf_counter() - start)
        core.append(_core.last_compute_seconds())
        del result  # freeing the result is the caller's business, as a command's exit is
    return statistics.median(wall), statistics.median(core)


def report(name, wall, core):
    overhead = (wall - core) / core
    print(f"{name:10s} core {core:8.3f} s   Python call {wall:8.3f} s   overhead "
          f"{100 * overhead:5.2f}% ({1e3 * (wall - core):.1f} ms)   "
          f"{'OK' if overhead <= 0.05 else 'over 5%'}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    lrmsuite.set_threads(2)
    print(f"threads 2, repeats {repeats} (medians), load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    rng = np.random.default_rng(0)
    acts = np.maximum(rng.standard_normal((400, 193_600), dtype=np.float32), 0)
    categories = np.repeat(["face", "body", "place", "object"], 100)
    report("localize", *timed(lambda: lrmsuite.localize(acts, categories), repeats))
    del acts
    x = rng.standard_normal((3200, 9216), dtype=np.float32)
    y = x[:, :400] @ rng.standard_normal((400, 168)) + rng.standard_normal((3200, 168))
    pls_categories = np.repeat([f"c{i}" for i in range(64)], 50)
    report("encode pls", *timed(lambda: lrmsuite.encode(x, y, regression="pls", splits=10,
                                                       pls_components=25,
                                                       categories=pls_categories), repeats))


if __name__ == "__main__":
    main()
