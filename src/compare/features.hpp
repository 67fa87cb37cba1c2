#pragma once
// Model features as stored (float32, stimulus x unit, row major) and the few products the
// encoding models need, computed on a subset of rows without copying them. Centring is implicit
// (X0 v = X v - (mu . v)), and every product accumulates in double, so results equal those on a
// float64 copy of the data (what scikit-learn and numpy use) at half the memory and bandwidth.
#include <Eigen/Dense>
#include <vector>

namespace lrm::compare {

using FeatureMatrix =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
using Rows = std::vector<Eigen::Index>;

Eigen::VectorXd column_means(const FeatureMatrix& x, const Rows& rows);
// (X[rows] - mu)^T t
Eigen::VectorXd transpose_times_vector(const FeatureMatrix& x, const Rows& rows,
                                       const Eigen::VectorXd& mu, const Eigen::VectorXd& t);
// (X[rows] - mu)^T Y, by blocks of rows converted to double (dgemm)
Eigen::MatrixXd transpose_times(const FeatureMatrix& x, const Rows& rows, const Eigen::VectorXd& mu,
                                const Eigen::MatrixXd& y);
// (X[rows] - mu) B, by blocks of rows (dgemm)
Eigen::MatrixXd times(const FeatureMatrix& x, const Rows& rows, const Eigen::VectorXd& mu,
                      const Eigen::MatrixXd& b);
// (X[rows] - mu)(X[cols] - mu)^T, the Gram matrix between two row sets (dgemm by blocks)
Eigen::MatrixXd gram(const FeatureMatrix& x, const Rows& rows, const Rows& cols,
                     const Eigen::VectorXd& mu);

Rows all_rows(Eigen::Index n);

}  // namespace lrm::compare
