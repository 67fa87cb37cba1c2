#pragma once
// RDM comparison and inference (rsatoolbox's compare and inference modules): correlations of
// upper triangles, the noise ceiling over subjects, and bootstrap confidence intervals over
// stimuli and over subjects. Each metric is a pure function of (model RDM, brain RDMs).
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "common/names.hpp"
#include "stats/correlation.hpp"

namespace lrm::compare {

// r(upper(a), upper(b)); RDMs of different sizes are an InputError.
double compare_rdms(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, stats::Correlation c);

// How subjects' RDMs are averaged into the reference RDM of a noise ceiling. `pooled` is
// rsatoolbox's pool_rdm: each RDM is transformed the way the comparison is invariant to before
// the mean (ranks for spearman, rho_a and the taus; z-scores for pearson; unit root-mean-square
// for cosine), so the pooled RDM is the best predictor under that comparison. `mean` is the plain
// mean (Net2Brain, Algonauts).
enum class CeilingPool { pooled, mean };
inline const Names<CeilingPool> ceiling_pool_names{{"pooled", CeilingPool::pooled},
                                                   {"mean", CeilingPool::mean}};

// The transform pool_rdm applies to one RDM's upper triangle under comparison `c` (NaN when the
// vector is constant and `c` is pearson or cosine).
Eigen::VectorXd pool_transform(const Eigen::VectorXd& upper, stats::Correlation c);

struct NoiseCeiling {
  double upper = 0, lower = 0;
  Eigen::VectorXd upper_per_subject, lower_per_subject;
};
// Upper: mean over subjects of r(RDM_s, pool of all); lower: mean of r(RDM_s, pool of the
// others) (rsatoolbox's boot_noise_ceiling); `squared` squares each subject's r before the mean
// (as for r^2 scores).
NoiseCeiling noise_ceiling(const std::vector<Eigen::MatrixXd>& subjects, stats::Correlation c,
                           bool squared, CeilingPool pool);

Eigen::MatrixXd mean_rdm(const std::vector<Eigen::MatrixXd>& rdms);

struct BootstrapInterval {
  double low = 0, high = 0, std = 0;
  int resamples = 0, undefined = 0;  // resamples where r was undefined (dropped)
};

// Resamples stimuli with replacement and correlates each model RDM with the brain RDM on the
// resampled conditions, dropping pairs of identical conditions (rsatoolbox's bootstrap_sample_rdm):
// row b - begin holds resample b's value for each model (NaN where undefined). Resample b is
// drawn from Resampler::for_resample(seed, b) alone, so a row does not depend on which range (or
// MPI rank) computes it.
using StimulusBootstrap = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
StimulusBootstrap bootstrap_stimuli_values(const std::vector<Eigen::MatrixXd>& models,
                                           const Eigen::MatrixXd& brain, stats::Correlation c,
                                           std::uint64_t seed, int begin, int end);
// The interval of one model's resample values, in resample order (the undefined ones dropped).
BootstrapInterval summarise_bootstrap(const Eigen::Ref<const Eigen::VectorXd>& values,
                                      double level = 0.95);
// Resamples 0 .. resamples - 1 of one model, summarised.
BootstrapInterval bootstrap_stimuli(const Eigen::MatrixXd& model, const Eigen::MatrixXd& brain,
                                    stats::Correlation c, int resamples, std::uint64_t seed,
                                    double level = 0.95);
// Resamples subjects with replacement; the statistic is the mean of the per-subject values.
BootstrapInterval bootstrap_subjects(const Eigen::VectorXd& per_subject, int resamples,
                                     std::uint64_t seed, double level = 0.95);

struct RdmScoring {
  stats::Correlation comparison = stats::Correlation::spearman;
  bool squared = false;  // square each brain RDM's r before the mean
  int bootstrap = 0;     // resamples for the intervals (0: none)
  std::uint64_t seed = 0;
  // false: score_rdm leaves the stimulus interval to the caller (bootstrap_stimuli_values over
  // all models at once, its resamples split across MPI ranks).
  bool stimulus_bootstrap = true;
};
struct RdmScore {
  Eigen::VectorXd r;           // with each brain RDM
  double mean = 0;             // over brain RDMs, of r or of r^2 when squared
  double to_mean_rdm = 0;      // with the brain RDMs' mean
  BootstrapInterval stimuli;   // with bootstrap > 0, against the mean brain RDM
  BootstrapInterval subjects;  // with bootstrap > 0 and at least 2 brain RDMs, of the mean
};
// A model RDM's scores against brain RDMs (`brain_mean` is their mean). An undefined comparison
// (a constant RDM) is an InputError naming `what`.
RdmScore score_rdm(const Eigen::MatrixXd& model, const std::vector<Eigen::MatrixXd>& brain,
                   const Eigen::MatrixXd& brain_mean, const RdmScoring& scoring,
                   const std::string& what);

}  // namespace lrm::compare
