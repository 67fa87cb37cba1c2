#include "compare/rdm.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace lrm::compare {

namespace {

// No budget: rows already in memory are one block.
constexpr std::int64_t unbounded = std::int64_t{1} << 62;

void check_size(Eigen::Index n, const std::string& what) {
  if (n < 3)
    throw InputError((what.empty() ? "" : what + ": ") + "an RDM needs at least 3 stimuli, got " +
                     std::to_string(n));
}

// 1 - r from the Gram of centred unit rows; (|a|^2 + |b|^2 - 2 a.b) / p from a shifted Gram.
Eigen::MatrixXd rdm_from_gram(Eigen::MatrixXd g, RdmMethod method, Eigen::Index p) {
  const Eigen::Index n = g.rows();
  if (method == RdmMethod::correlation) {
    g = (1.0 - g.array().max(-1.0).min(1.0)).matrix();
  } else {
    const Eigen::VectorXd d = g.diagonal();
    g = (((-2 * g).colwise() + d).rowwise() + d.transpose()).cwiseMax(0.0) / static_cast<double>(p);
  }
  for (Eigen::Index i = 0; i < n; ++i) g(i, i) = 0;
  return g;
}

}  // namespace

Eigen::MatrixXd rdm_of_rows(const RowSource& rows, RdmMethod method, std::int64_t memory,
                            const std::string& what, std::int64_t reserved) {
  check_size(rows.rows(), what);
  if (method == RdmMethod::crossvalidated || method == RdmMethod::crossnobis)
    throw InputError(
        what +
        ": cross-validated distances need repeated measurements (use them for brain responses)");
  const GramKind kind =
      method == RdmMethod::correlation ? GramKind::correlation : GramKind::shifted;
  // The RDM is formed from a copy of the Gram: count it against the budget too.
  const std::int64_t rdm_bytes = std::int64_t{8} * rows.rows() * rows.rows();
  return rdm_from_gram(streamed_gram(rows, kind, memory, what, reserved + rdm_bytes), method,
                       rows.cols());
}

Eigen::MatrixXd rdm_correlation(Eigen::Ref<RowMatrixXf> features, const std::string& what) {
  check_size(features.rows(), what);
  RowMatrixXf copy;
  float* data = features.data();
  if (features.outerStride() != features.cols()) data = (copy = features).data();
  const MatrixRows rows(data, features.rows(), features.cols());
  return rdm_from_gram(streamed_gram(rows, GramKind::correlation, unbounded, what),
                       RdmMethod::correlation, features.cols());
}

Eigen::MatrixXd rdm_euclidean(const RowMatrixXf& features) {
  check_size(features.rows(), "");
  const MatrixRows rows(static_cast<const float*>(features.data()), features.rows(),
                        features.cols());
  return rdm_from_gram(streamed_gram(rows, GramKind::shifted, unbounded, "features"),
                       RdmMethod::euclidean, features.cols());
}

Eigen::MatrixXd rdm_crossvalidated(const std::vector<Eigen::MatrixXd>& repetitions) {
  const auto k = static_cast<double>(repetitions.size());
  if (repetitions.size() < 2)
    throw InputError("cross-validated distances need at least 2 repetitions per stimulus");
  const Eigen::Index n = repetitions[0].rows(), p = repetitions[0].cols();
  // sum_{k != l} a^k . a^l = |sum_k a^k|^2 - sum_k |a^k|^2 with a^k = x_i^k - x_j^k, so two Gram
  // matrices give every pair; they are summed over chunks of features, so that no stimulus x
  // feature sum is formed.
  for (const auto& r : repetitions) {
    if (r.rows() != n || r.cols() != p) throw InputError("repetitions of different shapes");
    if (!r.allFinite())
      throw InputError(
          "cross-validated distances need every repetition of every stimulus (NaN found)");
  }
  constexpr Eigen::Index chunk = 1024;
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index c0 = 0; c0 < p; c0 += chunk) {
    const Eigen::Index f = std::min(chunk, p - c0);
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(n, f);
    for (const auto& r : repetitions) {
      sum += r.middleCols(c0, f);
      g.selfadjointView<Eigen::Upper>().rankUpdate(r.middleCols(c0, f), -1.0);
    }
    g.selfadjointView<Eigen::Upper>().rankUpdate(sum, 1.0);
  }
  g.triangularView<Eigen::StrictlyLower>() = g.transpose();
  const Eigen::VectorXd d = g.diagonal();
  Eigen::MatrixXd rdm = ((-2 * g).colwise() + d).rowwise() + d.transpose();
  rdm /= k * (k - 1) * static_cast<double>(p);
  rdm.diagonal().setZero();
  return rdm;
}

Eigen::VectorXd upper_triangle(const Eigen::MatrixXd& rdm) {
  const Eigen::Index n = rdm.rows();
  Eigen::VectorXd v(n * (n - 1) / 2);
  Eigen::Index k = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) v[k++] = rdm(i, j);
  return v;
}

Eigen::MatrixXd square_rdm(const Eigen::VectorXd& upper) {
  const auto n =
      static_cast<Eigen::Index>(std::llround((1 + std::sqrt(1 + 8.0 * upper.size())) / 2));
  if (n * (n - 1) / 2 != upper.size())
    throw InputError("a vector of " + std::to_string(upper.size()) +
                     " values is not an RDM's upper triangle");
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(n, n);
  Eigen::Index k = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) m(i, j) = m(j, i) = upper[k++];
  return m;
}

}  // namespace lrm::compare
