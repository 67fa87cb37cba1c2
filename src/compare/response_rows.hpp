#pragma once
// Stimulus x neuroid responses as chosen rows of a larger matrix, so that joining the responses
// to a model's stimuli copies no responses (at NSD's 9,000 stimuli x 30,000 voxels a copy is
// 2 GB); the training and test rows of a split are taken from it as they are needed.
#include <Eigen/Dense>

#include "compare/features.hpp"

namespace lrm::compare {

class ResponseRows {
 public:
  // Every row of `all`, in order (implicit: a plain matrix is a view of all its rows).
  ResponseRows(const Eigen::MatrixXd& all);  // NOLINT(google-explicit-constructor)
  // Row i is values.row(rows[i]).
  ResponseRows(const Eigen::MatrixXd& values, Rows rows);
  Eigen::Index rows() const { return static_cast<Eigen::Index>(rows_.size()); }
  Eigen::Index cols() const { return values_.cols(); }
  bool all_finite() const;
  // Rows `which` (of this view), columns first .. first + m - 1.
  Eigen::MatrixXd take(const Rows& which, Eigen::Index first, Eigen::Index m) const;
  // The whole view as a matrix.
  Eigen::MatrixXd matrix() const;

 private:
  const Eigen::MatrixXd& values_;
  Rows rows_;
};

}  // namespace lrm::compare
