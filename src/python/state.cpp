// The state a call of the Python modules keeps between calls: the default thread count and the
// compute time of the last call.
#include "python/call.hpp"

namespace lrm::python {
namespace {
int g_default_threads = 0;
}

double& last_compute_seconds() {
  static double seconds = 0;
  return seconds;
}

void set_default_threads(int n) { g_default_threads = n; }

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return g_default_threads > 0 ? g_default_threads : hardware_threads();
}

}  // namespace lrm::python
