#pragma once
// The RSA parity fixture (tests/fixtures/compare/rsa_parity: rsatoolbox and numpy references).
#include <filesystem>
#include <string>

#include "io/h5.hpp"

namespace lrm::test {

inline const std::filesystem::path rsa_parity =
    std::filesystem::path(LRM_SOURCE_DIR) / "tests/fixtures/compare/rsa_parity/rsa_parity.h5";

// A 2-D dataset as a matrix, a 1-D one as a column, a scalar as 1 x 1.
inline Eigen::MatrixXd parity_matrix(const std::string& path) {
  using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  h5::File f(rsa_parity, h5::File::Mode::read);
  auto a = h5::read_array<double>(f, path);
  if (a.shape.empty()) return Eigen::MatrixXd::Constant(1, 1, a.data.at(0));
  if (a.shape.size() == 1)
    return Eigen::Map<Eigen::VectorXd>(a.data.data(), static_cast<Eigen::Index>(a.shape[0]));
  return RowMatrixXd(Eigen::Map<RowMatrixXd>(a.data.data(), static_cast<Eigen::Index>(a.shape[0]),
                                             static_cast<Eigen::Index>(a.shape[1])));
}

}  // namespace lrm::test
