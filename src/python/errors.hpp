#pragma once
// The suite's exceptions as Python's: bad input is a ValueError with the CLI's one line, a setting
// named by its argument ("pls_components: ...", where the CLI says "--pls-components: ...").
#include <pybind11/pybind11.h>

#include <exception>
#include <string>

#include "common/error.hpp"

namespace lrm::python {

inline void translate_errors(std::exception_ptr error) {
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

}  // namespace lrm::python
