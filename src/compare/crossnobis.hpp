#pragma once
// Crossnobis RDMs (rsatoolbox's calc_rdm_crossnobis): Mahalanobis distances between condition
// patterns, whitened by a shrinkage estimate of the noise precision, cross-validated over runs so
// that noise does not inflate them (unbiased: 0 expected for equal patterns, entries can be < 0).
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "common/names.hpp"
#include "io/assembly.hpp"
#include "io/neural_responses.hpp"

namespace lrm::compare {

// Where the noise covariance comes from: the spread of each condition's measurements around its
// mean (rsatoolbox's prec_from_measurements), the residuals around each condition's mean within
// each run (prec_from_residuals, dof = measurements - condition x run cells), or none (identity:
// cross-validated Euclidean distance).
enum class NoisePrecision { measurements, residuals, identity };
inline const Names<NoisePrecision> noise_precision_names{
    {"measurements", NoisePrecision::measurements},
    {"residuals", NoisePrecision::residuals},
    {"identity", NoisePrecision::identity}};

// Schäfer & Strimmer's (2005) shrinkage of the sample covariance of the rows of `x` (already
// centred) towards its diagonal, with `dof` degrees of freedom, exactly as rsatoolbox's
// _covariance_diag (whose scaled correlations divide by rows - 1).
Eigen::MatrixXd covariance_shrinkage_diag(const Eigen::MatrixXd& x, double dof);
// rsatoolbox's prec_from_residuals (shrinkage_diag): columns centred; dof <= 0 means rows - 1.
Eigen::MatrixXd precision_from_residuals(Eigen::MatrixXd residuals, double dof);
// rsatoolbox's prec_from_measurements (shrinkage_diag): every condition measured equally often;
// measurements centred per condition, dof = (conditions - 1) x measurements per condition.
Eigen::MatrixXd precision_from_measurements(const Eigen::MatrixXd& measurements,
                                            const std::vector<Eigen::Index>& condition_of,
                                            Eigen::Index conditions);

struct CrossnobisData {
  Eigen::MatrixXd measurements;            // measurement x channel
  std::vector<Eigen::Index> condition_of;  // 0..conditions-1 per measurement
  std::vector<Eigen::Index> run_of;        // 0..runs-1 per measurement
  Eigen::Index conditions = 0, runs = 0;
};
// Leave-one-run-out: for each run, (mean of the other runs' measurements of each condition) and
// (mean of this run's) give d_ij = (a_i - a_j)' P (b_i - b_j) / channels; the RDM is their mean
// over runs. Every condition must be measured in every run. `what` names the data in errors.
Eigen::MatrixXd rdm_crossnobis(const CrossnobisData& data, const Eigen::MatrixXd& precision,
                               const std::string& what);

// The noise precision of `data` by `noise`; `what` names the data in errors (measurements need
// every condition measured equally often; residuals need repeats within a run).
Eigen::MatrixXd noise_precision(const CrossnobisData& data, NoisePrecision noise,
                                const std::string& what);

// The crossnobis RDM of grouped responses whose assembly has a run coordinate along its
// presentations (`run_coord`, or "run" / "session" when empty); `note` says how it was formed.
Eigen::MatrixXd crossnobis_from_responses(const io::Assembly& assembly,
                                          const io::NeuralResponses& responses,
                                          const std::string& run_coord, NoisePrecision noise,
                                          std::string& note);

}  // namespace lrm::compare
