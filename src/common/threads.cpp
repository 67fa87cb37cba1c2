#include "common/threads.hpp"

#include <omp.h>

#include <thread>

extern "C" void openblas_set_num_threads(int);

namespace lrm {
namespace {
int g_threads = 0;
}

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void set_threads(int n) {
  g_threads = n > 0 ? n : hardware_threads();
  omp_set_num_threads(g_threads);
  openblas_set_num_threads(g_threads);
}

int threads() { return g_threads > 0 ? g_threads : hardware_threads(); }

}  // namespace lrm
