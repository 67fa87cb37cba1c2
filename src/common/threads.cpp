#include "common/threads.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

// OpenBLAS, weakly: a program that calls no BLAS (the localizer's benchmark driver) then does not
// load it, and other BLAS builds lack these. Its pthread build starts workers as it loads, which
// spin on sched_yield for about 0.1 s before they sleep, taking that time from the OpenMP kernels
// on small machines; stopping them is free, as the next threaded BLAS call starts them again.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" int blas_thread_shutdown_(void) __attribute__((weak));

namespace lrm {
namespace {
int g_threads = 0;
}

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int local_ranks() {
  for (const char* name :
       {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_LOCAL_SIZE"})
    if (const char* text = std::getenv(name)) {
      const int n = std::atoi(text);
      if (n > 0) return n;
    }
  return 1;
}

int default_threads() { return std::max(1, hardware_threads() / local_ranks()); }

void set_threads(int n) {
  g_threads = n > 0 ? n : default_threads();
  omp_set_num_threads(g_threads);
  if (openblas_set_num_threads) openblas_set_num_threads(g_threads);
  if (blas_thread_shutdown_) blas_thread_shutdown_();
}

int threads() { return g_threads > 0 ? g_threads : default_threads(); }

}  // namespace lrm
