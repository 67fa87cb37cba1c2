#include "compare/banded_ridge.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "compare/ridge_cv.hpp"

namespace lrm::compare {
namespace {

// Uniform in (0, 1) from the top 53 bits (never 0, so logs and powers stay finite).
double uniform(std::mt19937_64& engine) {
  return (static_cast<double>(engine() >> 11) + 0.5) * 0x1.0p-53;
}

// Marsaglia and Tsang's gamma variate of shape k (scale 1); shapes below 1 by boosting to k + 1.
double gamma_variate(double k, std::mt19937_64& engine) {
  if (k < 1) return gamma_variate(k + 1, engine) * std::pow(uniform(engine), 1 / k);
  const double d = k - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    // A standard normal by Box-Muller.
    const double z =
        std::sqrt(-2 * std::log(uniform(engine))) * std::cos(2 * M_PI * uniform(engine));
    const double v = std::pow(1 + c * z, 3);
    if (v <= 0) continue;
    if (std::log(uniform(engine)) < 0.5 * z * z + d - d * v + d * std::log(v)) return d * v;
  }
}

// m(rows, cols).
Eigen::MatrixXd sub(const Eigen::MatrixXd& m, const Rows& rows, const Rows& cols) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()),
                      static_cast<Eigen::Index>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j)
    for (std::size_t i = 0; i < rows.size(); ++i)
      out(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = m(rows[i], cols[j]);
  return out;
}

Eigen::MatrixXd take_rows(const Eigen::MatrixXd& m, const Rows& rows) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), m.cols());
  for (std::size_t i = 0; i < rows.size(); ++i)
    out.row(static_cast<Eigen::Index>(i)) = m.row(rows[i]);
  return out;
}

// scikit-learn's KFold(k) without shuffling: contiguous folds, the first n % k one larger.
std::vector<Split> contiguous_folds(Eigen::Index n, int k) {
  std::vector<Split> folds;
  Eigen::Index start = 0;
  for (int f = 0; f < k; ++f) {
    const Eigen::Index size = n / k + (f < n % k ? 1 : 0);
    Split s;
    for (Eigen::Index i = 0; i < n; ++i)
      (i >= start && i < start + size ? s.test : s.train).push_back(i);
    start += size;
    folds.push_back(std::move(s));
  }
  return folds;
}

// One centred training kernel diagonalised, K = V diag(s) V^T, and the centred test kernel times
// V: the predictions of penalty a are (K_test V) diag(1 / (s + a)) V^T y_c.
struct Resolvent {
  Eigen::VectorXd s;
  Eigen::MatrixXd v, test_v;
};

Resolvent resolvent(Eigen::MatrixXd k_train, Eigen::MatrixXd k_test) {
  centre_kernels(k_train, k_test);
  EigenPairs eig = symmetric_eigen(std::move(k_train));
  // Rounding leaves a positive semidefinite kernel's null directions slightly negative.
  return {eig.values.cwiseMax(0.0), eig.vectors, k_test * eig.vectors};
}

// Adds minus the mean squared validation error of every penalty (alpha x target), times `weight`.
// Targets go in blocks, so the temporaries are n x block whatever the number of voxels.
void add_fold_scores(const Resolvent& r, const Eigen::MatrixXd& y_train,
                     const Eigen::MatrixXd& y_test, const std::vector<double>& alphas,
                     double weight, Eigen::MatrixXd& score) {
  constexpr Eigen::Index block = 1024;
  const double scale = weight / static_cast<double>(y_test.rows());
  for (Eigen::Index first = 0; first < y_train.cols(); first += block) {
    const Eigen::Index m = std::min(block, y_train.cols() - first);
    const Eigen::RowVectorXd mean = y_train.middleCols(first, m).colwise().mean();
    const Eigen::MatrixXd z = r.v.transpose() * (y_train.middleCols(first, m).rowwise() - mean);
    const Eigen::MatrixXd y_c = y_test.middleCols(first, m).rowwise() - mean;
    for (std::size_t a = 0; a < alphas.size(); ++a) {
      const Eigen::VectorXd w = (r.s.array() + alphas[a]).inverse();
      score.row(static_cast<Eigen::Index>(a)).segment(first, m) -=
          scale * (y_c - r.test_v * (w.asDiagonal() * z)).colwise().squaredNorm();
    }
  }
}

Eigen::MatrixXd weighted_sum(const std::vector<Eigen::MatrixXd>& kernels,
                             const Eigen::RowVectorXd& ratio) {
  Eigen::MatrixXd k = ratio[0] * kernels[0];
  for (std::size_t g = 1; g < kernels.size(); ++g)
    k += ratio[static_cast<Eigen::Index>(g)] * kernels[g];
  return k;
}

// Minus the mean squared validation error of every penalty (alpha x target), mean over folds,
// plus 1e-10 log(alpha) so that larger penalties win ties (himalaya's rule).
Eigen::MatrixXd candidate_scores(const Eigen::MatrixXd& k, const Eigen::MatrixXd& y_train,
                                 const std::vector<Split>& folds,
                                 const std::vector<double>& alphas) {
  const auto n_alpha = static_cast<Eigen::Index>(alphas.size());
  Eigen::MatrixXd score = Eigen::MatrixXd::Zero(n_alpha, y_train.cols());
  for (const auto& f : folds)
    add_fold_scores(resolvent(sub(k, f.train, f.train), sub(k, f.test, f.train)),
                    take_rows(y_train, f.train), take_rows(y_train, f.test), alphas,
                    1.0 / static_cast<double>(folds.size()), score);
  for (Eigen::Index a = 0; a < n_alpha; ++a)
    score.row(a).array() += 1e-10 * std::log(alphas[static_cast<std::size_t>(a)]);
  return score;
}

// Refits each target on the whole training set with its chosen ratio and penalty (out.alpha).
void refit(const std::vector<Eigen::MatrixXd>& k_train, const std::vector<Eigen::MatrixXd>& k_test,
           const Eigen::MatrixXd& y_train, const Eigen::MatrixXd& ratios,
           const std::vector<Eigen::Index>& chosen, BandedRidgePrediction& out) {
  const Eigen::Index q = y_train.cols();
  const Eigen::RowVectorXd mean = y_train.colwise().mean();
  const Eigen::MatrixXd y_c = y_train.rowwise() - mean;
  out.prediction.resize(k_test[0].rows(), q);
  out.ratio.resize(ratios.cols(), q);
  out.penalty.resize(ratios.cols(), q);
  for (Eigen::Index i = 0; i < ratios.rows(); ++i) {
    Rows targets;
    for (Eigen::Index t = 0; t < q; ++t)
      if (chosen[static_cast<std::size_t>(t)] == i) targets.push_back(t);
    if (targets.empty()) continue;
    const Resolvent r =
        resolvent(weighted_sum(k_train, ratios.row(i)), weighted_sum(k_test, ratios.row(i)));
    for (auto t : targets) {
      const Eigen::VectorXd z =
          (r.v.transpose() * y_c.col(t)).array() / (r.s.array() + out.alpha[t]);
      out.prediction.col(t) = (r.test_v * z).array() + mean[t];
      out.ratio.col(t) = ratios.row(i).transpose();
      out.penalty.col(t) = out.alpha[t] / ratios.row(i).transpose().array();
    }
  }
}

void check_options(const std::vector<Eigen::MatrixXd>& grams, std::size_t n_train,
                   const BandedRidgeOptions& o) {
  if (grams.empty()) throw InputError("banded ridge needs at least one feature group");
  if (o.alphas.empty()) throw SettingError("alphas", "needs at least one penalty");
  if (o.ratios.size() == 0 && o.n_iter < 1) throw SettingError("n-iter", "must be at least 1");
  if (o.ratios.size() && o.ratios.cols() != static_cast<Eigen::Index>(grams.size()))
    throw SettingError("ratios", "needs one column per feature group");
  if (o.folds < 2) throw SettingError("folds", "must be at least 2");
  if (n_train < 2 * static_cast<std::size_t>(o.folds))
    throw InputError("banded ridge needs at least " + std::to_string(2 * o.folds) +
                     " training stimuli for its " + std::to_string(o.folds) +
                     " cross-validation folds (there are " + std::to_string(n_train) + ")");
}

}  // namespace

Eigen::MatrixXd dirichlet_ratios(int n, int groups, std::uint64_t seed) {
  if (n < 1) throw SettingError("n-iter", "must be at least 1");
  std::mt19937_64 engine(seed);
  const double concentration[] = {0.1, 1.0};
  Eigen::MatrixXd out(n, groups);
  for (int i = 0; i < n; ++i) {
    for (int g = 0; g < groups; ++g) out(i, g) = gamma_variate(concentration[i % 2], engine);
    out.row(i) /= out.row(i).sum();
  }
  out.row(0).setConstant(1.0 / groups);
  return out;
}

BandedRidgePrediction banded_ridge_kernel(const std::vector<Eigen::MatrixXd>& grams,
                                          const Rows& train, const Rows& test,
                                          const Eigen::MatrixXd& y_train,
                                          const BandedRidgeOptions& options) {
  check_options(grams, train.size(), options);
  const Eigen::MatrixXd ratios =
      options.ratios.size()
          ? options.ratios
          : dirichlet_ratios(options.n_iter, static_cast<int>(grams.size()), options.seed);
  std::vector<Eigen::MatrixXd> k_train, k_test;
  for (const auto& g : grams)
    k_train.push_back(sub(g, train, train)), k_test.push_back(sub(g, test, train));
  const Eigen::Index q = y_train.cols();
  const auto folds = contiguous_folds(static_cast<Eigen::Index>(train.size()), options.folds);
  BandedRidgePrediction out;
  out.cv_score.resize(ratios.rows(), q);
  out.alpha = Eigen::VectorXd::Ones(q);
  std::vector<Eigen::Index> chosen(static_cast<std::size_t>(q), 0);
  Eigen::VectorXd best = Eigen::VectorXd::Constant(q, -std::numeric_limits<double>::infinity());
  Progress bar("banded ridge", ratios.rows(), "ratios");
  for (Eigen::Index i = 0; i < ratios.rows(); ++i) {
    check_interrupt();
    bar.advance();
    const Eigen::MatrixXd score =
        candidate_scores(weighted_sum(k_train, ratios.row(i)), y_train, folds, options.alphas);
    for (Eigen::Index t = 0; t < q; ++t) {
      Eigen::Index a = 0;
      const double s = score.col(t).maxCoeff(&a);
      out.cv_score(i, t) = s;
      // A later candidate must beat the best by more than rounding, as himalaya's search.
      if (s > best[t] + std::numeric_limits<double>::epsilon()) {
        best[t] = s;
        chosen[static_cast<std::size_t>(t)] = i;
        out.alpha[t] = options.alphas[static_cast<std::size_t>(a)];
      }
    }
  }
  bar.finish();
  refit(k_train, k_test, y_train, ratios, chosen, out);
  return out;
}

}  // namespace lrm::compare
