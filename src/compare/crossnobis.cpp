#include "compare/crossnobis.hpp"

#include <algorithm>
#include <map>

#include "common/error.hpp"

namespace lrm::compare {
namespace {

Eigen::MatrixXd inverse(const Eigen::MatrixXd& covariance, const std::string& what) {
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(covariance);
  if (ldlt.info() != Eigen::Success || !(ldlt.vectorD().minCoeff() > 0))
    throw InputError(what + ": the noise covariance is singular (a channel without variance?)");
  return ldlt.solve(Eigen::MatrixXd::Identity(covariance.rows(), covariance.cols()));
}

// Mean measurement of each condition over the measurements `use` selects.
Eigen::MatrixXd condition_means(const CrossnobisData& d, const std::vector<bool>& use) {
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(d.conditions, d.measurements.cols());
  Eigen::VectorXd count = Eigen::VectorXd::Zero(d.conditions);
  for (Eigen::Index m = 0; m < d.measurements.rows(); ++m)
    if (use[static_cast<std::size_t>(m)]) {
      sum.row(d.condition_of[m]) += d.measurements.row(m);
      count[d.condition_of[m]] += 1;
    }
  return sum.array().colwise() / count.array();
}

}  // namespace

Eigen::MatrixXd covariance_shrinkage_diag(const Eigen::MatrixXd& x, double dof) {
  const auto n = static_cast<double>(x.rows());
  const Eigen::MatrixXd s_sum = x.transpose() * x;
  const Eigen::MatrixXd x2 = x.array().square().matrix();
  const Eigen::MatrixXd s2_sum = x2.transpose() * x2;
  const Eigen::MatrixXd s = s_sum / dof;
  const Eigen::ArrayXd var = s.diagonal().array(), sd = var.sqrt();
  const Eigen::ArrayXXd outer_sd = sd.matrix() * sd.matrix().transpose();
  const Eigen::ArrayXXd outer_var = var.matrix() * var.matrix().transpose();
  const Eigen::ArrayXXd s_mean = s_sum.array() / outer_sd / (n - 1);
  const Eigen::ArrayXXd s2_mean = s2_sum.array() / outer_var / (n - 1);
  const Eigen::ArrayXXd var_hat = n / (dof * dof) * (s2_mean - s_mean.square());
  const double off_var = var_hat.sum() - var_hat.matrix().trace();
  const double off_sq = s_mean.square().sum() - s_mean.square().matrix().trace();
  const double lambda = std::clamp(off_var / off_sq, 0.0, 1.0);
  Eigen::MatrixXd shrunk = s * (1 - lambda);
  shrunk.diagonal() = s.diagonal();
  return shrunk;
}

Eigen::MatrixXd precision_from_residuals(Eigen::MatrixXd residuals, double dof) {
  residuals.rowwise() -= residuals.colwise().mean();
  if (dof <= 0) dof = static_cast<double>(residuals.rows() - 1);
  return inverse(covariance_shrinkage_diag(residuals, dof), "residuals");
}

Eigen::MatrixXd precision_from_measurements(const Eigen::MatrixXd& measurements,
                                            const std::vector<Eigen::Index>& condition_of,
                                            Eigen::Index conditions) {
  CrossnobisData d{measurements, condition_of, {}, conditions, 1};
  const Eigen::MatrixXd means =
      condition_means(d, std::vector<bool>(static_cast<std::size_t>(measurements.rows()), true));
  Eigen::MatrixXd centred = measurements;
  for (Eigen::Index m = 0; m < centred.rows(); ++m) centred.row(m) -= means.row(condition_of[m]);
  const double per_condition =
      static_cast<double>(measurements.rows()) / static_cast<double>(conditions);
  return inverse(
      covariance_shrinkage_diag(centred, static_cast<double>(conditions - 1) * per_condition),
      "measurements");
}

Eigen::MatrixXd rdm_crossnobis(const CrossnobisData& d, const Eigen::MatrixXd& precision,
                               const std::string& what) {
  if (d.runs < 2)
    throw InputError(what + ": crossnobis distances need at least 2 runs, got " +
                     std::to_string(d.runs));
  Eigen::MatrixXi seen = Eigen::MatrixXi::Zero(d.conditions, d.runs);
  for (std::size_t m = 0; m < d.run_of.size(); ++m) seen(d.condition_of[m], d.run_of[m]) = 1;
  if (seen.minCoeff() == 0)
    throw InputError(what + ": crossnobis distances need every stimulus measured in every run");
  const auto n = d.conditions;
  Eigen::MatrixXd rdm = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index fold = 0; fold < d.runs; ++fold) {
    std::vector<bool> test(d.run_of.size()), train(d.run_of.size());
    for (std::size_t m = 0; m < d.run_of.size(); ++m) {
      test[m] = d.run_of[m] == fold;
      train[m] = !test[m];
    }
    const Eigen::MatrixXd k =
        condition_means(d, train) * precision * condition_means(d, test).transpose();
    const Eigen::VectorXd diag = k.diagonal();
    rdm += ((-k - k.transpose()).colwise() + diag).rowwise() + diag.transpose();
  }
  rdm /= static_cast<double>(d.runs) * static_cast<double>(d.measurements.cols());
  rdm.diagonal().setZero();
  return rdm;
}

Eigen::MatrixXd noise_precision(const CrossnobisData& d, NoisePrecision noise,
                                const std::string& what) {
  if (noise == NoisePrecision::identity)
    return Eigen::MatrixXd::Identity(d.measurements.cols(), d.measurements.cols());
  if (noise == NoisePrecision::measurements) {
    Eigen::VectorXi per = Eigen::VectorXi::Zero(d.conditions);
    for (auto c : d.condition_of) ++per[c];
    if (per.minCoeff() != per.maxCoeff())
      throw InputError(what +
                       ": a noise precision from measurements needs every stimulus "
                       "measured equally often (use residuals)");
    return precision_from_measurements(d.measurements, d.condition_of, d.conditions);
  }
  Eigen::MatrixXd residuals = d.measurements;
  std::map<std::pair<Eigen::Index, Eigen::Index>, std::vector<Eigen::Index>> cells;
  for (Eigen::Index m = 0; m < residuals.rows(); ++m)
    cells[{d.condition_of[m], d.run_of[m]}].push_back(m);
  for (const auto& [cell, rows] : cells) {
    Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(residuals.cols());
    for (auto m : rows) mean += d.measurements.row(m);
    mean /= static_cast<double>(rows.size());
    for (auto m : rows) residuals.row(m) -= mean;
  }
  const auto dof = static_cast<double>(residuals.rows()) - static_cast<double>(cells.size());
  if (dof < 1)
    throw InputError(what +
                     ": noise residuals need repeated measurements of a stimulus "
                     "within a run");
  return precision_from_residuals(std::move(residuals), dof);
}

Eigen::MatrixXd crossnobis_from_responses(const io::Assembly& a, const io::NeuralResponses& r,
                                          const std::string& run_coord, NoisePrecision noise,
                                          std::string& note) {
  std::string coord = run_coord;
  if (coord.empty()) coord = a.has("run") ? "run" : a.has("session") ? "session" : "";
  if (coord.empty() || !a.has(coord))
    throw InputError(a.source + ": crossnobis distances need run labels (a " +
                     (run_coord.empty() ? std::string("run or session") : "'" + run_coord + "'") +
                     " coordinate along the presentations)");
  const auto& labels = a.strings(coord);
  if (labels.size() != static_cast<std::size_t>(r.presentations.rows()))
    throw InputError(a.source + ": coordinate '" + coord + "' is not along the presentations");
  if (!r.presentations.allFinite())
    throw InputError(a.source + ": crossnobis distances need every response (NaN found)");
  std::map<std::string, Eigen::Index> runs;
  for (const auto& l : labels) runs.emplace(l, 0);
  Eigen::Index next = 0;
  for (auto& [label, index] : runs) index = next++;
  CrossnobisData d{
      r.presentations, r.stimulus_of, {}, static_cast<Eigen::Index>(r.stimulus_ids.size()), next};
  for (const auto& l : labels) d.run_of.push_back(runs.at(l));
  const auto precision = noise_precision(d, noise, a.source);
  note = "crossnobis RDM over " + std::to_string(d.runs) + " runs ('" + coord +
         "'), noise precision from " + noise_precision_names.name(noise);
  return rdm_crossnobis(d, precision, a.source);
}

}  // namespace lrm::compare
