#include "compare/resampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lrm::compare {

Resampler Resampler::for_resample(std::uint64_t seed, std::uint64_t index) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32)};
  return Resampler(seq);
}

std::uint64_t Resampler::index(std::uint64_t n) {
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t r;
  do r = engine_();
  while (r >= limit);
  return r % n;
}

std::vector<std::int64_t> Resampler::with_replacement(std::int64_t n) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  for (auto& v : out) v = static_cast<std::int64_t>(index(static_cast<std::uint64_t>(n)));
  return out;
}

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double pos = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

}  // namespace lrm::compare
