#include "compare/response_rows.hpp"

#include <numeric>
#include <utility>

namespace lrm::compare {

ResponseRows::ResponseRows(const Eigen::MatrixXd& all)
    : values_(all), rows_(static_cast<std::size_t>(all.rows())) {
  std::iota(rows_.begin(), rows_.end(), Eigen::Index{0});
}

ResponseRows::ResponseRows(const Eigen::MatrixXd& values, Rows rows)
    : values_(values), rows_(std::move(rows)) {}

bool ResponseRows::all_finite() const {
  for (const auto r : rows_)
    if (!values_.row(r).allFinite()) return false;
  return true;
}

Eigen::MatrixXd ResponseRows::take(const Rows& which, Eigen::Index first, Eigen::Index m) const {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(which.size()), m);
  for (std::size_t i = 0; i < which.size(); ++i)
    out.row(static_cast<Eigen::Index>(i)) =
        values_.row(rows_[static_cast<std::size_t>(which[i])]).segment(first, m);
  return out;
}

Eigen::MatrixXd ResponseRows::matrix() const {
  Rows all(rows_.size());
  std::iota(all.begin(), all.end(), Eigen::Index{0});
  return take(all, 0, cols());
}

}  // namespace lrm::compare
