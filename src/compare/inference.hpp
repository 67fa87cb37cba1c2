#pragma once
// Inference between models of one RSA run (rsatoolbox's eval_bootstrap / eval_dual_bootstrap and
// its t-tests for fixed models): bootstrap over stimuli, subjects, or both; for both, the variance
// is corrected as rsatoolbox's dual bootstrap does (Schütt et al. 2023: stimulus-only and
// subject-only bootstraps are run alongside and the small-sample formula combines the three).
// Tests: each pair of models (two-sided, Benjamini-Hochberg across pairs), each model against 0
// (one-sided) and against the lower noise ceiling (two-sided), and the lower ceiling against 0.
//
// A stimulus resample is exact without forming resampled RDMs: drawing stimulus a c_a times makes
// the pair (a, b) occur c_a c_b times among the resampled pairs (pairs of the same stimulus are
// dropped, as rsatoolbox does), so each comparison is a weighted one over the original pairs.
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "common/names.hpp"
#include "compare/rsa.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"
#include "stats/correlation.hpp"

namespace lrm::compare {

enum class BootstrapOver { stimuli, subjects, both };
inline const Names<BootstrapOver> bootstrap_over_names{{"stimuli", BootstrapOver::stimuli},
                                                       {"subjects", BootstrapOver::subjects},
                                                       {"both", BootstrapOver::both}};

// Comparison `c` of the multiset of pairs (x_k, y_k), pair k occurring w_k times: the same value as
// stats::correlate on the expanded vectors. Rank comparisons take average ranks over the multiset.
// Kendall's taus are not supported (a SettingError of "comparison").
double weighted_correlation(stats::Correlation c, const Eigen::VectorXd& x,
                            const Eigen::VectorXd& y, const Eigen::VectorXd& w);
// The same with x and y already sorted once (`order_x`, `order_y`: their ascending argsorts), so
// each resample costs one pass over the pairs.
double weighted_correlation(stats::Correlation c, const Eigen::VectorXd& x,
                            const std::vector<Eigen::Index>& order_x, const Eigen::VectorXd& y,
                            const std::vector<Eigen::Index>& order_y, const Eigen::VectorXd& w);
// Ascending argsort (stable).
std::vector<Eigen::Index> argsort(const Eigen::VectorXd& x);

struct InferenceOptions {
  stats::Correlation comparison = stats::Correlation::spearman;
  CeilingPool pool = CeilingPool::pooled;
  bool squared = false;
  BootstrapOver over = BootstrapOver::both;
  int resamples = 1000;
  std::uint64_t seed = 0;
  double level = 0.95;
};

struct Inference {
  int dof = 0, valid_resamples = 0;
  Eigen::VectorXd evaluation, evaluation_sd, evaluation_low, evaluation_high;  // per model
  Eigen::MatrixXd difference, difference_low, difference_high;  // row model minus column model
  Eigen::MatrixXd p_pairwise, p_pairwise_fdr;                   // NaN on the diagonal
  Eigen::VectorXd p_vs_zero, p_vs_lower_ceiling;
  double ceiling_lower = 0, ceiling_upper = 0, ceiling_lower_sd = 0, p_ceiling_vs_chance = 0;
  Eigen::MatrixXd samples;  // resample x (models, lower ceiling, upper ceiling), main bootstrap
};

// Models' RDMs against subjects' RDMs (all n x n over the same stimuli). A subject bootstrap needs
// at least 3 subjects (an InputError).
Inference infer(const std::vector<Eigen::MatrixXd>& models,
                const std::vector<Eigen::MatrixXd>& subjects, const InferenceOptions& options);

// Before any work: a bootstrap over subjects needs at least 3 subjects' RDMs (an InputError naming
// `source`).
void check_inference_input(const std::string& source, std::size_t subjects, BootstrapOver over);

// Runs infer and writes its arrays into /rsa/inference (dimensions model and model_b); returns
// the summary lines.
std::vector<std::string> write_inference(const h5::Group& rsa,
                                         const std::vector<io::LayerPass>& models,
                                         const std::vector<Eigen::MatrixXd>& model_rdms,
                                         const std::vector<Eigen::MatrixXd>& subjects,
                                         const InferenceOptions& options);

}  // namespace lrm::compare
