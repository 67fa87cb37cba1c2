#include "compare/rdm.hpp"

#include <cblas.h>

#include <cmath>

#include "common/error.hpp"

namespace lrm::compare {

Eigen::MatrixXd rdm_correlation(Eigen::Ref<RowMatrixXf> features, const std::string& what) {
  const Eigen::Index n = features.rows(), p = features.cols();
  if (n < 3) throw InputError(what + ": an RDM needs at least 3 stimuli, got " + std::to_string(n));
  Eigen::Index constant_row = -1;
#pragma omp parallel for schedule(static)
  for (Eigen::Index i = 0; i < n; ++i) {
    float* row = features.row(i).data();
    double sum = 0;
    for (Eigen::Index j = 0; j < p; ++j) sum += row[j];
    const double mean = sum / static_cast<double>(p);
    double ss = 0;
    for (Eigen::Index j = 0; j < p; ++j) {
      const double d = row[j] - mean;
      ss += d * d;
    }
    if (!(ss > 0)) {
#pragma omp critical
      constant_row = constant_row < 0 ? i : std::min(constant_row, i);
      continue;
    }
    const double scale = 1.0 / std::sqrt(ss);
    for (Eigen::Index j = 0; j < p; ++j) row[j] = static_cast<float>((row[j] - mean) * scale);
  }
  if (constant_row >= 0)
    throw InputError(what + ": stimulus row " + std::to_string(constant_row) +
                     " has constant features, so its correlation distance is undefined");
  Eigen::MatrixXf g(n, n);
  cblas_ssyrk(CblasColMajor, CblasUpper, CblasTrans, static_cast<int>(n), static_cast<int>(p), 1.0f,
              features.data(), static_cast<int>(p), 0.0f, g.data(), static_cast<int>(n));
  Eigen::MatrixXd rdm(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    rdm(j, j) = 0;
    for (Eigen::Index i = 0; i < j; ++i)
      rdm(i, j) = rdm(j, i) = 1.0 - std::clamp(static_cast<double>(g(i, j)), -1.0, 1.0);
  }
  return rdm;
}

Eigen::MatrixXd rdm_euclidean(const RowMatrixXf& features) {
  const Eigen::Index n = features.rows(), p = features.cols();
  if (n < 3) throw InputError("an RDM needs at least 3 stimuli, got " + std::to_string(n));
  Eigen::MatrixXd x = features.cast<double>();
  x.rowwise() -= x.colwise().mean();
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(n, n);
  g.selfadjointView<Eigen::Lower>().rankUpdate(x);
  g = g.selfadjointView<Eigen::Lower>();
  const Eigen::VectorXd d = g.diagonal();
  Eigen::MatrixXd rdm = ((-2 * g).colwise() + d).rowwise() + d.transpose();
  rdm = rdm.cwiseMax(0.0) / static_cast<double>(p);
  rdm.diagonal().setZero();
  return rdm;
}

Eigen::MatrixXd rdm_crossvalidated(const std::vector<Eigen::MatrixXd>& repetitions) {
  const auto k = static_cast<double>(repetitions.size());
  if (repetitions.size() < 2)
    throw InputError("cross-validated distances need at least 2 repetitions per stimulus");
  const Eigen::Index n = repetitions[0].rows(), p = repetitions[0].cols();
  // sum_{k != l} a^k . a^l = |sum_k a^k|^2 - sum_k |a^k|^2 with a^k = x_i^k - x_j^k, so two Gram
  // matrices give every pair.
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(n, p);
  Eigen::MatrixXd within = Eigen::MatrixXd::Zero(n, n);
  for (const auto& r : repetitions) {
    if (r.rows() != n || r.cols() != p) throw InputError("repetitions of different shapes");
    if (!r.allFinite())
      throw InputError(
          "cross-validated distances need every repetition of every stimulus (NaN found)");
    sum += r;
    within.noalias() += r * r.transpose();
  }
  const Eigen::MatrixXd total = sum * sum.transpose();
  const Eigen::MatrixXd g = total - within;
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
