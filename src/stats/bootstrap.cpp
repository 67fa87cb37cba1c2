#include "stats/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "common/error.hpp"

namespace lrm::stats {

std::uint64_t uniform_index(std::uint64_t n, std::uint64_t (*next)(void*), void* state) {
  // Largest multiple of n that fits: draws at or above it would bias the low values.
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t x;
  do x = next(state);
  while (x >= limit);
  return x % n;
}

ConfidenceInterval percentile_ci(
    std::int64_t n_items, const std::function<double(const std::vector<std::int64_t>&)>& statistic,
    std::int64_t n_resamples, std::uint64_t seed, double level) {
  if (n_items < 1) throw InputError("bootstrap: no items to resample");
  if (n_resamples < 1)
    throw InputError("bootstrap: resamples = " + std::to_string(n_resamples) + " must be ≥ 1");
  if (!(level > 0.0 && level < 1.0))
    throw InputError("bootstrap: confidence level " + std::to_string(level) +
                     " must lie in (0, 1)");
  std::vector<std::int64_t> index(n_items);
  for (std::int64_t i = 0; i < n_items; ++i) index[i] = i;
  ConfidenceInterval ci{statistic(index), 0.0, 0.0, 0};

  std::mt19937_64 engine(seed);
  auto next = [](void* s) -> std::uint64_t { return (*static_cast<std::mt19937_64*>(s))(); };
  std::vector<double> stats;
  stats.reserve(n_resamples);
  for (std::int64_t b = 0; b < n_resamples; ++b) {
    for (auto& i : index) i = static_cast<std::int64_t>(uniform_index(n_items, next, &engine));
    const double s = statistic(index);
    if (!std::isnan(s)) stats.push_back(s);
  }
  ci.n_resamples = static_cast<std::int64_t>(stats.size());
  if (stats.empty()) throw InputError("bootstrap: the statistic is undefined on every resample");
  std::sort(stats.begin(), stats.end());
  ci.low = percentile_sorted(stats, 50.0 * (1.0 - level));
  ci.high = percentile_sorted(stats, 100.0 - 50.0 * (1.0 - level));
  return ci;
}

ConfidenceInterval percentile_ci(const std::vector<double>& values,
                                 const std::function<double(const std::vector<double>&)>& statistic,
                                 std::int64_t n_resamples, std::uint64_t seed, double level) {
  std::vector<double> resample(values.size());
  return percentile_ci(
      static_cast<std::int64_t>(values.size()),
      [&](const std::vector<std::int64_t>& index) {
        for (std::size_t i = 0; i < index.size(); ++i) resample[i] = values[index[i]];
        return statistic ? statistic(resample) : mean(resample);
      },
      n_resamples, seed, level);
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double percentile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double position = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

}  // namespace lrm::stats
