"""How calls behave: arrays read in place, threads, the GIL released during compute, Ctrl-C, and
results that match the command line's files (same names and dimensions)."""
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
import xarray as xr

import lrmsuite
from conftest import FIXTURES, ROOT
from lrmsuite import _core

ACTS = os.path.join(FIXTURES, "localizer", "activations.h5")
LRM = os.path.join(ROOT, "build", "lrm")


def test_float32_c_order_is_read_in_place_and_others_are_converted():
    x = np.zeros((50, 40), np.float32)
    assert _core.input_address(x) == x.ctypes.data
    view = np.zeros((50, 80), np.float32)[:, ::2]  # strided: needs a contiguous copy
    assert _core.input_address(view) != view.ctypes.data
    assert _core.input_address(x.astype(np.float64)) != x.ctypes.data


def test_results_are_views_of_the_cores_buffers():
    rng = np.random.default_rng(0)
    ds = lrmsuite.localize(rng.normal(size=(20, 30)).astype(np.float32), ["a", "b"] * 10,
                           target="a")
    assert not ds["t"].values.flags.owndata  # numpy views onto the result, not copies


def large_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, 40000)).astype(np.float32)
    return x, np.array(["a", "b", "c", "d"])[np.arange(600) % 4]


def test_threads_give_identical_results_and_a_module_default():
    x, cats = large_problem()
    one = lrmsuite.localize(x, cats, target="a", threads=1)
    two = lrmsuite.localize(x, cats, target="a", threads=2)
    xr.testing.assert_identical(one, two)
    old = lrmsuite.get_threads()
    try:
        lrmsuite.set_threads(1)
        assert lrmsuite.get_threads() == 1
        xr.testing.assert_identical(lrmsuite.localize(x, cats, target="a"), one)
    finally:
        lrmsuite.set_threads(0)
    assert lrmsuite.get_threads() == old or old == 1
    with pytest.raises(ValueError, match=r"^threads: "):
        lrmsuite.localize(x, cats, threads=0)


def test_the_gil_is_released_during_compute():
    x, cats = large_problem()
    ticks = []
    done = threading.Event()

    def call():
        for _ in range(3):
            lrmsuite.localize(x, cats, threads=1)
        done.set()

    worker = threading.Thread(target=call)
    start = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.005)
    worker.join()
    elapsed = time.perf_counter() - start
    # The main thread kept running: its ticks cover the call, never stalling for long.
    gaps = np.diff([start] + ticks)
    assert elapsed > 0.05 and len(ticks) > 5
    assert gaps.max() < max(0.25, elapsed / 3)


def test_ctrl_c_interrupts_a_long_call():
    # A shell that starts us in the background without job control ignores SIGINT, and Python then
    # keeps it ignored: put Python's own Ctrl-C handler in place, as an interactive session has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        interrupted_call()
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupted_call():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 3000)).astype(np.float32)
    y = rng.normal(size=(3000, 50))
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        lrmsuite.encode(x, y, splits=200, pls_components=25, threads=1)
    assert time.perf_counter() - start < 20
    timer.cancel()
    # The next call runs normally: the interrupt was cleared.
    assert lrmsuite.signal_detection([1], [0], 2, 2)["hit_rate"].item() == 0.5


@pytest.mark.skipif(not os.path.exists(LRM), reason="the lrm executable is not built")
def test_same_names_and_dimensions_as_lrm_localize(tmp_path):
    out = tmp_path / "loc.h5"
    subprocess.run([LRM, "--quiet", "localize", "--activations", ACTS, "--target", "faces",
                    "--out", str(out)], check=True)
    results = lrmsuite.open_results(out)
    assert "/localizer/conv/pass1/faces" in results
    cli = results["/localizer/conv/pass1/faces"].load()
    acts = xr.open_dataset(ACTS, group="/activations/conv", engine="h5netcdf")["pass1"].load()
    py = lrmsuite.localize(acts, target="faces")
    for name, v in cli.data_vars.items():
        assert py[name].dims == v.dims, name
        np.testing.assert_array_equal(py[name].values, v.values, err_msg=name)
    for name in ("target", "n_units", "n_selective", "n_selective_ttest"):
        assert py.attrs[name] == cli.attrs[name]
    assert "lrm_version" in results.attrs
