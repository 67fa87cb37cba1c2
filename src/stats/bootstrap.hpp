#pragma once
// Percentile bootstrap confidence intervals, seeded and deterministic across platforms.
#include <cstdint>
#include <functional>
#include <vector>

namespace lrm::stats {

struct ConfidenceInterval {
  double estimate;  // the statistic on the original items
  double low, high;
  std::int64_t n_resamples;  // resamples whose statistic was defined (NaN ones are left out)
};

// Uniform integer in [0, n) from a 64-bit Mersenne Twister by rejection (no modulo bias), so a
// seed gives the same draws with every standard library.
std::uint64_t uniform_index(std::uint64_t n, std::uint64_t (*next)(void*), void* state);

// Resamples item indices 0..n_items−1 with replacement `n_resamples` times (std::mt19937_64 seeded
// with `seed`), evaluates `statistic` on each resample and returns the percentile interval at
// `level` (numpy's linear percentile of the resampled statistics). The statistic sees indices, so
// paired or multi-array data resample together.
ConfidenceInterval percentile_ci(
    std::int64_t n_items, const std::function<double(const std::vector<std::int64_t>&)>& statistic,
    std::int64_t n_resamples = 10000, std::uint64_t seed = 0, double level = 0.95);

// The interval of a statistic of a sample of values (default: the mean, e.g. a hit rate of 0/1
// outcomes).
ConfidenceInterval percentile_ci(
    const std::vector<double>& values,
    const std::function<double(const std::vector<double>&)>& statistic = nullptr,
    std::int64_t n_resamples = 10000, std::uint64_t seed = 0, double level = 0.95);

double mean(const std::vector<double>& values);
// numpy.percentile with linear interpolation, q in [0, 100]; `sorted` ascending.
double percentile_sorted(const std::vector<double>& sorted, double q);

}  // namespace lrm::stats
