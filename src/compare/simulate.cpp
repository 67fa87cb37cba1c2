#include "compare/simulate.hpp"

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "compare/resampling.hpp"

namespace lrm::compare {
namespace {

// Uniform, normal and Poisson draws from mt19937_64 only, so results do not depend on the
// standard library's distributions.
struct Draws {
  explicit Draws(std::uint64_t seed) : engine(seed) {}
  double uniform() { return (static_cast<double>(engine() >> 11) + 0.5) * 0x1.0p-53; }
  double normal() { return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform()); }
  std::int64_t poisson(double lambda) {
    if (lambda > 60)
      return std::max<std::int64_t>(0, std::llround(lambda + std::sqrt(lambda) * normal()));
    const double limit = std::exp(-lambda);
    std::int64_t k = 0;
    for (double prod = uniform(); prod > limit; prod *= uniform()) ++k;
    return k;
  }
  std::mt19937_64 engine;
};

}  // namespace

SimulatedRecordings simulate_recordings(const FeatureMatrix& x, const SimulationOptions& options) {
  const Eigen::Index n = x.rows(), p = x.cols();
  if (n < 3) throw InputError("simulated recordings need at least 3 stimuli");
  if (options.neuroids < 1 || options.repetitions < 2)
    throw InputError("simulated recordings need at least 1 neuroid and 2 repetitions");
  Draws draws(options.seed);
  // Standardised features (constant ones left out), a random subset if asked.
  const Rows rows = all_rows(n);
  const Eigen::VectorXd mu = column_means(x, rows);
  Rows used;
  for (Eigen::Index j = 0; j < p; ++j) used.push_back(j);
  Resampler pick(options.seed + 1);
  pick.shuffle(used);
  if (options.features_used > 0 && options.features_used < p)
    used.resize(static_cast<std::size_t>(options.features_used));
  const auto k = static_cast<Eigen::Index>(used.size());
  Eigen::MatrixXd weights = Eigen::MatrixXd::Zero(p, options.neuroids);
  for (Eigen::Index i = 0; i < k; ++i)
    for (int j = 0; j < options.neuroids; ++j) weights(used[i], j) = draws.normal();
  Eigen::MatrixXd drive = times(x, rows, mu, weights);
  SimulatedRecordings sim;
  sim.rate.resize(n, options.neuroids);
  for (int j = 0; j < options.neuroids; ++j) {
    auto d = drive.col(j).array();
    const double sd = std::sqrt((d - d.mean()).square().mean());
    if (!(sd > 0))
      throw InputError(
          "the features are constant over stimuli; nothing drives the simulated neuroids");
    const Eigen::ArrayXd z = (d - d.mean()) / sd * options.gain;
    const Eigen::ArrayXd soft =
        z.unaryExpr([](double v) { return v > 30 ? v : std::log1p(std::exp(v)); });
    sim.rate.col(j) = (soft / soft.mean() * options.mean_rate).matrix();
  }
  const int reps = options.repetitions;
  sim.presentations.resize(n * reps, options.neuroids);
  for (int r = 0; r < reps; ++r)
    for (Eigen::Index s = 0; s < n; ++s) {
      const Eigen::Index row = r * n + s;
      sim.stimulus_of.push_back(s);
      sim.repetition.push_back(r);
      for (int j = 0; j < options.neuroids; ++j)
        sim.presentations(row, j) = static_cast<double>(draws.poisson(sim.rate(s, j)));
    }
  sim.true_ceiling_per_neuroid.resize(options.neuroids);
  std::vector<double> c;
  for (int j = 0; j < options.neuroids; ++j) {
    const auto rate = sim.rate.col(j).array();
    const double var = (rate - rate.mean()).square().mean();
    sim.true_ceiling_per_neuroid[j] = var / (var + rate.mean() / reps);
    c.push_back(sim.true_ceiling_per_neuroid[j]);
  }
  sim.true_ceiling = percentile(c, 50);
  return sim;
}

}  // namespace lrm::compare
