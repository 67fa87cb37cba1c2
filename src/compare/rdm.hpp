#pragma once
// Representational dissimilarity matrices (rsatoolbox's calc module): from a stimulus x feature
// matrix by correlation distance (1 - Pearson, Brain-Score and Net2Brain's default) or squared
// Euclidean distance / n_features (rsatoolbox's "euclidean"), and cross-validated Euclidean
// distances from repeated measurements (crossnobis, whitened by the noise, is compare/crossnobis).
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "common/names.hpp"
#include "compare/gram.hpp"

namespace lrm::compare {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class RdmMethod { correlation, euclidean, crossvalidated, crossnobis };
inline const Names<RdmMethod> rdm_method_names{
    {"correlation", RdmMethod::correlation},
    {"euclidean", RdmMethod::euclidean},
    {"crossvalidated-euclidean", RdmMethod::crossvalidated},
    {"crossvalidated", RdmMethod::crossvalidated, true},
    {"crossnobis", RdmMethod::crossnobis}};
inline const char* rdm_method_name(RdmMethod m) { return rdm_method_names.name(m).c_str(); }

// 1 - Pearson between rows. Rows are centred and scaled in place (the caller's copy is consumed,
// so a large activation array is never duplicated), then single-precision products over fixed
// chunks of features (BLAS ssyrk), summed in double, form every correlation. A constant row is an
// InputError naming `what`.
Eigen::MatrixXd rdm_correlation(Eigen::Ref<RowMatrixXf> features, const std::string& what);
// Squared Euclidean distance / n_features, from double products of the features shifted by a mean.
Eigen::MatrixXd rdm_euclidean(const RowMatrixXf& features);
// The correlation or Euclidean RDM of rows streamed with at most `memory` bytes in memory (see
// streamed_gram in compare/gram.hpp): the same values as the functions above whatever the budget.
Eigen::MatrixXd rdm_of_rows(const RowSource& rows, RdmMethod method, std::int64_t memory,
                            const std::string& what, std::int64_t reserved = 0);
// Cross-validated squared Euclidean distance / n_features: the mean over pairs of different
// repetitions k != l of (x_i^k - x_j^k) . (x_i^l - x_j^l). `repetitions[k]` is stimulus x feature.
// Unbiased (expected 0 for equal patterns), so entries can be negative.
Eigen::MatrixXd rdm_crossvalidated(const std::vector<Eigen::MatrixXd>& repetitions);

// The upper triangle without the diagonal, row major over i < j (scipy's squareform order).
Eigen::VectorXd upper_triangle(const Eigen::MatrixXd& rdm);
Eigen::MatrixXd square_rdm(const Eigen::VectorXd& upper);

}  // namespace lrm::compare
