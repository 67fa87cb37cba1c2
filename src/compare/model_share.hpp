#pragma once
// How the ranks of `mpirun -n N lrm compare encode` share the encoding models, and rank 0's join
// of one model's shares. Every share is chosen so that the joined result equals one process's to
// the bit.
#include <Eigen/Dense>
#include <cstddef>
#include <string>
#include <vector>

#include "common/mpi.hpp"
#include "compare/encoding.hpp"

namespace lrm::compare {

// Whole models round robin, or, with fewer models than ranks, every rank fits a share of each
// model: its cross-validation splits or its neuroids.
enum class ModelShare { models, splits, neuroids };

// The number of cross-validation splits the metric fits.
std::size_t split_count(const PredictivityOptions& metric);

ModelShare choose_model_share(std::size_t models, const PredictivityOptions& metric,
                              Eigen::Index neuroids, int ranks);

// The metric rank `rank` of `ranks` fits under `share`.
PredictivityOptions rank_metric(PredictivityOptions metric, ModelShare share, int rank, int ranks);

// The neuroids (columns) the metric's rank fits: all, or its contiguous share of whole ridgecv
// target blocks (ridge_cv_block) when the neuroids are shared.
mpi::Range fitted_neuroids(const PredictivityOptions& metric, Eigen::Index neuroids);

// One model's result from every rank's share (`parts`, in rank order, each ranks' packed result
// under `metric` with its own rank): the splits' rows and the neuroids' columns put in place and
// summarised as one process does.
EncodingBenchmark::Result join_shares(const std::vector<std::string>& parts,
                                      PredictivityOptions metric, double ceiling);

}  // namespace lrm::compare
