// lrmsuite._core: the torch-free core on numpy arrays. The Python package (python/lrmsuite) wraps
// these functions and labels their results as the HDF5 layout does.
#include <pybind11/pybind11.h>

#include "common/error.hpp"
#include "python/call.hpp"

namespace lrm::python {
namespace {

int g_default_threads = 0;

// Bad input is a ValueError with the CLI's one line; a setting is named by its argument
// ("pls_components: ...", where the CLI says "--pls-components: ...").
void translate(std::exception_ptr error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const SettingError& e) {
    std::string key = e.setting();
    for (char& c : key)
      if (c == '-') c = '_';
    PyErr_SetString(PyExc_ValueError, (key + ": " + e.problem()).c_str());
  } catch (const InputError& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const Interrupted&) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
  } catch (const InternalError& e) {
    PyErr_SetString(PyExc_RuntimeError, (std::string("internal error: ") + e.what()).c_str());
  }
}

}  // namespace

double& last_compute_seconds() {
  static double seconds = 0;
  return seconds;
}

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return g_default_threads > 0 ? g_default_threads : hardware_threads();
}

}  // namespace lrm::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace lrm::python;
  m.doc() = "lrm-suite's analysis core on numpy arrays (use the lrmsuite package)";
  py::register_exception_translator(&translate);
  m.def(
      "set_threads",
      [](int n) {
        if (n < 0) throw lrm::SettingError("threads", "must be 0 (every core) or more");
        g_default_threads = n;
      },
      py::arg("n"));
  m.def("get_threads", [] { return resolve_threads(0); });
  m.def("hardware_threads", &lrm::hardware_threads);
  m.def("last_compute_seconds", [] { return last_compute_seconds(); });
  add_analyses(m);
  add_statistics(m);
}
