"""lrm-suite from Python: the C++ core's analyses on numpy and xarray arrays, results labelled as
the suite's HDF5 files are, models through LibTorch (loaded only by load_model), and the results
files of a run.

    import lrmsuite
    ds = lrmsuite.localize(acts, categories, target="face")
"""
from ._core import get_threads, hardware_threads, set_threads
from .analyses import (ceiling, compare_rdms, encode, localize, noise_ceiling, rdm,
                       signal_detection)
from .results import open_results

__version__ = "0.1.0"

__all__ = ["ceiling", "compare_rdms", "encode", "get_threads", "hardware_threads", "load_model",
           "localize", "noise_ceiling", "open_results", "rdm", "set_threads", "signal_detection"]


def load_model(name, weights=None, seed=0):
    """A model of the suite (e.g. "alexnet-lrm3") with `weights` (a checkpoint or published .pth;
    None: random weights from `seed`), run through LibTorch, which is loaded here and not on
    import; see lrmsuite.models.Model."""
    from .models import load_model as load

    return load(name, weights=weights, seed=seed)
