#pragma once
// How the Python module runs the core: without the GIL, on a worker thread, while the calling
// thread polls Python's signal handlers, so that other Python threads run and Ctrl-C stops a long
// call (the core polls lrm::check_interrupt between batches).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <chrono>
#include <future>
#include <thread>
#include <utility>

#include "common/interrupt.hpp"
#include "common/threads.hpp"

namespace lrm::python {

namespace py = pybind11;

// Arrays as the core reads them: C order, float32 (features, activations) or float64. A numpy array
// already so laid out is read in place; any other is converted once.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Seconds the last call spent in the core (on the worker thread), for benchmarks/python: the rest
// of a call's time is the cost of calling through Python.
double& last_compute_seconds();

// The thread count for a call: `threads` when positive, else the module default
// (lrmsuite.set_threads), else every core. Each extension module keeps its own default, so the
// package hands the models module its threads explicitly.
int resolve_threads(int threads);
void set_default_threads(int n);

template <typename F>
auto compute(int threads, F&& f) -> decltype(f()) {
  using Result = decltype(f());
  const int n = resolve_threads(threads);
  // OpenMP's thread count is per thread: set it on the worker.
  std::packaged_task<Result()> task([&f, n] {
    set_threads(n);
    const auto start = std::chrono::steady_clock::now();
    auto result = f();
    last_compute_seconds() =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  });
  auto result = task.get_future();
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    std::thread worker(std::move(task));
    while (result.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      py::gil_scoped_acquire acquire;
      if (PyErr_CheckSignals() != 0) {
        interrupted = true;
        request_interrupt();
        break;
      }
    }
    worker.join();
  }
  clear_interrupt();
  if (interrupted) throw py::error_already_set();  // the KeyboardInterrupt Python raised
  return result.get();
}

// Registration of each group of functions on the module.
void add_analyses(py::module_& m);
void add_statistics(py::module_& m);

}  // namespace lrm::python
