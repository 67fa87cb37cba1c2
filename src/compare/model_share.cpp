#include "compare/model_share.hpp"

#include <algorithm>

#include "compare/rank_results.hpp"
#include "compare/ridge_cv.hpp"

namespace lrm::compare {

std::size_t split_count(const PredictivityOptions& m) {
  if (!m.fixed_splits.empty()) return m.fixed_splits.size();
  return m.test_ids.empty() ? static_cast<std::size_t>(std::max(m.splits, 0)) : 1;
}

namespace {

// The columns of ridgecv's target blocks under the metric's penalties.
std::size_t block_size(const PredictivityOptions& m) {
  return static_cast<std::size_t>(
      ridge_cv_block(m.alphas.empty() ? default_alphas().size() : m.alphas.size()));
}

std::size_t target_blocks(const PredictivityOptions& m, Eigen::Index neuroids) {
  const auto block = block_size(m);
  return (static_cast<std::size_t>(neuroids) + block - 1) / block;
}

}  // namespace

// Models first: no rank repeats another's work. Then splits: a split's fit depends on that split
// alone, and its setup (kernel centring, eigendecomposition) is done once. Not PLS: it fits a
// rank's splits together in batched products, whose last bits depend on the batch (r differed by
// up to 1e-15). Neuroids where they keep more ranks busy than the splits (fewer splits than
// ranks: the NSD case, one --test-ids split of 30,000 voxels): ridgecv only, whose targets are
// solved independently in whole blocks, so a share of whole blocks gets one process's bits; each
// rank repeats every split's eigendecomposition, which the per-voxel penalty search outweighs.
// ridge and ols take products over all targets at once, PLS couples them, banded searches in
// products over all of them: not shared.
ModelShare choose_model_share(std::size_t models, const PredictivityOptions& m,
                              Eigen::Index neuroids, int ranks) {
  const auto n = static_cast<std::size_t>(ranks);
  if (n < 2 || models >= n) return ModelShare::models;
  const std::size_t busy_splits = std::min(split_count(m), n);
  if (m.regression == Regression::ridgecv && std::min(target_blocks(m, neuroids), n) > busy_splits)
    return ModelShare::neuroids;
  if (busy_splits > 1 && m.regression != Regression::pls) return ModelShare::splits;
  return ModelShare::models;
}

PredictivityOptions rank_metric(PredictivityOptions metric, ModelShare share, int rank, int ranks) {
  if (share == ModelShare::splits) metric.split_rank = rank, metric.split_ranks = ranks;
  if (share == ModelShare::neuroids) metric.neuroid_rank = rank, metric.neuroid_ranks = ranks;
  return metric;
}

mpi::Range fitted_neuroids(const PredictivityOptions& m, Eigen::Index neuroids) {
  const auto q = static_cast<std::size_t>(neuroids);
  if (m.neuroid_ranks == 1) return {0, q};
  const auto block = block_size(m);
  const auto blocks = mpi::share(target_blocks(m, neuroids), m.neuroid_rank, m.neuroid_ranks);
  return {std::min(blocks.begin * block, q), std::min(blocks.end * block, q)};
}

EncodingBenchmark::Result join_shares(const std::vector<std::string>& parts,
                                      PredictivityOptions metric, double ceiling) {
  std::vector<EncodingBenchmark::Result> shares;
  for (const auto& bytes : parts) shares.push_back(unpack_encoding(bytes));
  EncodingBenchmark::Result out = shares.at(0);
  auto& pr = out.predictivity;
  for (std::size_t k = 1; k < shares.size(); ++k) {
    const auto& from = shares[k].predictivity;
    pr.components_used = std::min(pr.components_used, from.components_used);
    if (metric.neuroid_ranks > 1) {  // every split's row, rank k's columns
      metric.neuroid_rank = static_cast<int>(k);
      const auto cols = fitted_neuroids(metric, pr.r.cols());
      const auto b = static_cast<Eigen::Index>(cols.begin);
      const auto m = static_cast<Eigen::Index>(cols.size());
      pr.r.middleCols(b, m) = from.r.middleCols(b, m);
      if (pr.penalty.size()) pr.penalty.middleCols(b, m) = from.penalty.middleCols(b, m);
      continue;
    }
    for (auto s = k; s < static_cast<std::size_t>(pr.r.rows()); s += shares.size()) {
      const auto row = static_cast<Eigen::Index>(s);
      pr.r.row(row) = from.r.row(row);
      if (pr.penalty.size()) pr.penalty.row(row) = from.penalty.row(row);
      if (!pr.group_penalty.empty()) pr.group_penalty[s] = from.group_penalty[s];
    }
  }
  summarise_predictivity(pr);
  out.score = ceil_score(pr.score, ceiling);
  return out;
}

}  // namespace lrm::compare
