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
  // Uniform in [0, n), by rejection so every index is equally likely.
  std::uint64_t index(std::uint64_t n);
  std::vector<std::int64_t> with_replacement(std::int64_t n);
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[index(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

// numpy.percentile's default (linear interpolation between order statistics), q in [0, 100].
double percentile(std::vector<double> values, double q);

}  // namespace lrm::compare
