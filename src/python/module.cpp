// lrmsuite._core: the torch-free core on numpy arrays. The Python package (python/lrmsuite) wraps
// these functions and labels their results as the HDF5 layout does.
#include <pybind11/pybind11.h>

#include "common/error.hpp"
#include "python/call.hpp"
#include "python/errors.hpp"

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace lrm::python;
  m.doc() = "lrm-suite's analysis core on numpy arrays (use the lrmsuite package)";
  py::register_exception_translator(&translate_errors);
  m.def(
      "set_threads",
      [](int n) {
        if (n < 0) throw lrm::SettingError("threads", "must be 0 (every core) or more");
        set_default_threads(n);
      },
      py::arg("n"));
  m.def("get_threads", [] { return resolve_threads(0); });
  m.def("hardware_threads", &lrm::hardware_threads);
  m.def("last_compute_seconds", [] { return last_compute_seconds(); });
  add_analyses(m);
  add_statistics(m);
}
