// Suite side of benchmarks/compare: times the correlation-distance RDM and PLS-25 encoding on the
// data bench_compare.py wrote, writes the results for the equality check, and reports the peak
// resident memory of the process.
#include <cblas.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/threads.hpp"
#include "compare/rdm.hpp"
#include "compare/regression.hpp"
#include "io/h5.hpp"

using namespace lrm;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
// VmHWM of this process image: getrusage's ru_maxrss would also count the parent (Python) that
// spawned it, since Linux carries the high-water mark across exec.
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// CPU seconds of this process (all threads): on a loaded machine a kernel's flops per CPU second
// are disturbed less than its flops per wall second.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Rate {
  double wall = 0, cpu = 0;  // GFLOP per wall second, per CPU second (best of the runs)
};

// Single-precision GEMM throughput of this machine and thread count (the "peak" the RDM is
// measured against): best of 3 products of 4000 x 4000 matrices.
Rate sgemm_gflops() {
  const int n = 4000;
  std::vector<float> a(static_cast<std::size_t>(n) * n, 1.0f), b(a), c(a.size());
  Rate best;
  for (int r = 0; r < 3; ++r) {
    const auto t = Clock::now();
    const double c0 = cpu_seconds();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
    const double flops = 2.0 * n * n * static_cast<double>(n) / 1e9;
    best.wall = std::max(best.wall, flops / seconds_since(t));
    best.cpu = std::max(best.cpu, flops / (cpu_seconds() - c0));
  }
  return best;
}

// Best of 3 (the features are consumed in place: a fresh copy each time, outside the timing), with
// the sgemm peak measured before and after and the larger taken: on a shared machine the load
// changes while it runs, and the best times are the least disturbed. Also per CPU second (both
// sides), which other processes disturb less.
void bench_rdm(const std::string& data, const std::string& out) {
  h5::File f(data, h5::File::Mode::read);
  auto x = h5::read_array<float>(f, "/features");
  const auto n = static_cast<Eigen::Index>(x.shape[0]), p = static_cast<Eigen::Index>(x.shape[1]);
  Rate peak = sgemm_gflops();
  double s = 1e300, cpu = 1e300;
  Eigen::MatrixXd rdm;
  for (int r = 0; r < 3; ++r) {
    compare::RowMatrixXf features = Eigen::Map<compare::RowMatrixXf>(x.data.data(), n, p);
    const auto t = Clock::now();
    const double c0 = cpu_seconds();
    rdm = compare::rdm_correlation(features, "benchmark features");
    s = std::min(s, seconds_since(t));
    cpu = std::min(cpu, cpu_seconds() - c0);
  }
  const Rate after = sgemm_gflops();
  peak = {std::max(peak.wall, after.wall), std::max(peak.cpu, after.cpu)};
  // ssyrk does n(n+1)/2 dot products of length p: n(n+1)p flops.
  const double gflop = static_cast<double>(n) * (n + 1) * p / 1e9;
  h5::File o(out, h5::File::Mode::create_truncate);
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = rdm;
  h5::write_array(o.root(), "rdm", rm.data(),
                  {static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(n)}, {"a", "b"});
  std::printf(
      "suite rdm: %.3f s, %.1f GFLOP/s = %.0f%% of sgemm peak %.1f GFLOP/s; per CPU second %.1f "
      "GFLOP = %.0f%% of sgemm's %.1f\n",
      s, gflop / s, 100 * gflop / s / peak.wall, peak.wall, gflop / cpu,
      100 * gflop / cpu / peak.cpu, peak.cpu);
}

void bench_pls(const std::string& data, const std::string& out) {
  h5::File f(data, h5::File::Mode::read);
  auto x = h5::read_array<float>(f, "/x");
  const auto y_all = h5::read_array<double>(f, "/y");
  const auto train = h5::read_array<std::int64_t>(f, "/train");
  const auto test = h5::read_array<std::int64_t>(f, "/test");
  const auto n = static_cast<Eigen::Index>(x.shape[0]), p = static_cast<Eigen::Index>(x.shape[1]);
  const auto q = static_cast<Eigen::Index>(y_all.shape[1]);
  const auto splits = static_cast<Eigen::Index>(train.shape[0]);
  const auto n_train = static_cast<Eigen::Index>(train.shape[1]),
             n_test = static_cast<Eigen::Index>(test.shape[1]);
  compare::FeatureMatrix features(x.data.data(), n, p);
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> y_map(
      y_all.data.data(), n, q);
  const Eigen::MatrixXd y = y_map;
  std::vector<compare::Split> cv(static_cast<std::size_t>(splits));
  for (Eigen::Index s = 0; s < splits; ++s) {
    cv[s].train.assign(train.data.begin() + s * n_train, train.data.begin() + (s + 1) * n_train);
    cv[s].test.assign(test.data.begin() + s * n_test, test.data.begin() + (s + 1) * n_test);
  }
  const auto t = Clock::now();
  const auto fit =
      compare::cross_validate_pls(features, compare::all_rows(n), y, cv, {25, 500, 1e-6});
  std::vector<double> predictions;
  for (const auto& pred : fit.prediction) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = pred;
    predictions.insert(predictions.end(), rm.data(), rm.data() + rm.size());
  }
  const double s = seconds_since(t);
  h5::File o(out, h5::File::Mode::create_truncate);
  h5::write_array(o.root(), "prediction", predictions,
                  {static_cast<std::uint64_t>(splits), static_cast<std::uint64_t>(n_test),
                   static_cast<std::uint64_t>(q)},
                  {"split", "stimulus", "neuroid"});
  const double activation_mb =
      static_cast<double>(x.data.size()) * sizeof(float) / (1024.0 * 1024.0);
  std::printf(
      "suite pls: %.3f s for %lld splits; peak memory %.0f MiB = %.2fx the activation array (%.0f "
      "MiB)\n",
      s, static_cast<long long>(splits), peak_rss_mb(), peak_rss_mb() / activation_mb,
      activation_mb);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_compare rdm|pls DATA.h5 OUT.h5\n");
    return 2;
  }
  set_threads(2);
  const std::string mode = argv[1];
  if (mode == "rdm")
    bench_rdm(argv[2], argv[3]);
  else
    bench_pls(argv[2], argv[3]);
  return 0;
}
