#pragma once
// Seeded resampling that gives the same draws on every platform (std::mt19937_64 is fully
// specified; the standard distributions are not, so indices are drawn here).
#include <cstdint>
#include <random>
#include <vector>

namespace lrm::compare {

class Resampler {
 public:
  explicit Resampler(std::uint64_t seed) : engine_(seed) {}
  // The generator of resample `index` of a bootstrap seeded with `seed` (std::seed_seq of their
  // 32-bit halves): a resample's draws do not depend on which others are drawn, in what order or
  // on which thread or process.
  static Resampler for_resample(std::uint64_t seed, std::uint64_t index);
  // Uniform in [0, n), by rejection so every index is equally likely.
  std::uint64_t index(std::uint64_t n);
  std::vector<std::int64_t> with_replacement(std::int64_t n);
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[index(i)]);
  }

 private:
  explicit Resampler(std::seed_seq& seq) : engine_(seq) {}
  std::mt19937_64 engine_;
};

// numpy.percentile's default (linear interpolation between order statistics), q in [0, 100].
double percentile(std::vector<double> values, double q);

}  // namespace lrm::compare
