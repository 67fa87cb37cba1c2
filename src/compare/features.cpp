#include "compare/features.hpp"

#include <algorithm>
#include <numeric>

namespace lrm::compare {
namespace {

// Rows per block converted to double: about 8 MiB of doubles, so blocks stay cache- and
// memory-friendly whatever the layer width.
Eigen::Index block_rows(Eigen::Index cols) {
  return std::max<Eigen::Index>(16, (Eigen::Index{1} << 20) / std::max<Eigen::Index>(cols, 1));
}

Eigen::MatrixXd centred_block(const FeatureMatrix& x, const Rows& rows, Eigen::Index first,
                              Eigen::Index count, const Eigen::VectorXd& mu) {
  Eigen::MatrixXd block(count, x.cols());
#pragma omp parallel for schedule(static)
  for (Eigen::Index i = 0; i < count; ++i)
    block.row(i) = x.row(rows[first + i]).cast<double>() - mu.transpose();
  return block;
}

}  // namespace

Rows all_rows(Eigen::Index n) {
  Rows r(n);
  std::iota(r.begin(), r.end(), Eigen::Index{0});
  return r;
}

Eigen::VectorXd column_means(const FeatureMatrix& x, const Rows& rows) {
  // Column sums in row order (threads own columns), so the means do not depend on scheduling.
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(rows.size()));
  return transpose_times_vector(x, rows, Eigen::VectorXd::Zero(x.cols()), ones) /
         static_cast<double>(rows.size());
}

Eigen::VectorXd transpose_times_vector(const FeatureMatrix& x, const Rows& rows,
                                       const Eigen::VectorXd& mu, const Eigen::VectorXd& t) {
  const Eigen::Index p = x.cols();
  Eigen::VectorXd out = Eigen::VectorXd::Zero(p);
  // Threads own column ranges, so every column sums its rows in the same order (deterministic).
  constexpr Eigen::Index chunk = 512;
  const Eigen::Index n_chunks = (p + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
  for (Eigen::Index c = 0; c < n_chunks; ++c) {
    const Eigen::Index begin = c * chunk, end = std::min(p, begin + chunk);
    double* o = out.data();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const float* row = x.data() + rows[i] * p;
      const double ti = t[static_cast<Eigen::Index>(i)];
#pragma omp simd
      for (Eigen::Index j = begin; j < end; ++j) o[j] += ti * static_cast<double>(row[j]);
    }
  }
  out -= mu * t.sum();
  return out;
}

Eigen::MatrixXd transpose_times(const FeatureMatrix& x, const Rows& rows, const Eigen::VectorXd& mu,
                                const Eigen::MatrixXd& y) {
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size()), step = block_rows(x.cols());
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(x.cols(), y.cols());
  for (Eigen::Index first = 0; first < n; first += step) {
    const Eigen::Index count = std::min(step, n - first);
    out.noalias() +=
        centred_block(x, rows, first, count, mu).transpose() * y.middleRows(first, count);
  }
  return out;
}

Eigen::MatrixXd times(const FeatureMatrix& x, const Rows& rows, const Eigen::VectorXd& mu,
                      const Eigen::MatrixXd& b) {
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size()), step = block_rows(x.cols());
  Eigen::MatrixXd out(n, b.cols());
  for (Eigen::Index first = 0; first < n; first += step) {
    const Eigen::Index count = std::min(step, n - first);
    out.middleRows(first, count).noalias() = centred_block(x, rows, first, count, mu) * b;
  }
  return out;
}

Eigen::MatrixXd gram(const FeatureMatrix& x, const Rows& rows, const Rows& cols,
                     const Eigen::VectorXd& mu) {
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size());
  const Eigen::Index m = static_cast<Eigen::Index>(cols.size());
  const Eigen::Index step = block_rows(x.cols());
  Eigen::MatrixXd out(n, m);
  for (Eigen::Index cf = 0; cf < m; cf += step) {
    const Eigen::Index cc = std::min(step, m - cf);
    const Eigen::MatrixXd right = centred_block(x, cols, cf, cc, mu);
    for (Eigen::Index rf = 0; rf < n; rf += step) {
      const Eigen::Index rc = std::min(step, n - rf);
      out.block(rf, cf, rc, cc).noalias() = centred_block(x, rows, rf, rc, mu) * right.transpose();
    }
  }
  return out;
}

}  // namespace lrm::compare
