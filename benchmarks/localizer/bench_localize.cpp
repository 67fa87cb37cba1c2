// Benchmark driver: the library path of `lrm localize` (every category as target, Student, BY,
// q = .05) without LibTorch's start-up, for benchmarks/localizer/bench_localizer.py.
#include <cstdio>
#include <cstdlib>

#include "common/threads.hpp"
#include "localizer/localize_file.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_localize ACTIVATIONS.h5 OUT.h5   (threads: $LRM_THREADS)\n");
    return 2;
  }
  const char* threads = std::getenv("LRM_THREADS");
  lrm::set_threads(threads ? std::atoi(threads) : 0);
  lrm::localizer::FileOptions options;
  lrm::localizer::localize_file(argv[1], argv[2], options, lrm::io::current_provenance(0));
  return 0;
}
