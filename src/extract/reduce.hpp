#pragma once
// Reductions applied to a layer's activations as they are extracted (README "Reductions"), so a
// big layer is written as fewer units: pooled feature maps (avgpool, maxpool, avgpool:HxW), a
// seeded sparse random projection (srp:K) or principal components of a fitting set (pca:K).
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/names.hpp"
#include "extract/reduce_pca.hpp"
#include "io/h5.hpp"

namespace lrm::extract {

enum class ReduceKind { none, avgpool, maxpool, srp, pca };
inline const Names<ReduceKind> reduce_kinds{{"none", ReduceKind::none},
                                            {"avgpool", ReduceKind::avgpool},
                                            {"maxpool", ReduceKind::maxpool},
                                            {"srp", ReduceKind::srp},
                                            {"pca", ReduceKind::pca}};

// One layer's reduction, as written: none, avgpool, maxpool, avgpool:HxW, maxpool:HxW, srp:K,
// srp:K:SEED, pca:K or pca (all components of a stored fit).
struct Reduction {
  ReduceKind kind = ReduceKind::none;
  std::int64_t height = 0, width = 0;  // pools: the output grid; 0: one value per channel
  std::int64_t k = 0;                  // srp, pca: output units (pca 0: all the fit holds)
  std::optional<std::uint64_t> seed;   // srp: its own seed; default the run's
  std::string text() const;
};

// --reduce: one reduction for every layer ("srp:1000") or a comma list of layer=reduction items
// with at most one bare item for the layers not named ("avgpool,classifier.5=none").
struct ReduceSpec {
  Reduction fallback;
  std::vector<std::pair<std::string, Reduction>> per_layer;
  const Reduction& for_layer(const std::string& layer) const;
  bool uses(ReduceKind kind) const;
};
ReduceSpec parse_reduce_spec(const std::string& text, const std::string& setting);

// A sparse random projection R (D × K) as Li, Hastie & Church (2006) define it: every entry is
// independently +s or −s with probability density/2 each and 0 otherwise, density = 1/sqrt(D),
// s = sqrt(1 / (density · K)), so E[|xR|²] = |x|². Stored by column (the nonzero rows and their
// signs), never densely. Column j draws from mt19937_64 seeded by a mix of (seed, j), with
// geometric gaps between nonzeros, so the matrix depends only on (D, K, seed).
class SparseProjection {
 public:
  SparseProjection(std::int64_t units, std::int64_t k, std::uint64_t seed);
  std::int64_t units() const { return units_; }
  std::int64_t k() const { return k_; }
  double density() const { return density_; }
  double scale() const { return scale_; }
  std::int64_t nonzeros() const { return static_cast<std::int64_t>(row_.size()); }
  // y (rows × K) = x (rows × D) R, both row-major.
  void apply(const float* x, std::int64_t rows, float* y) const;
  // R as a dense D × K double tensor, for tests on small D.
  torch::Tensor dense() const;

 private:
  std::int64_t units_, k_;
  double density_, scale_;
  std::vector<std::int64_t> start_;  // column j's nonzeros: [start_[j], start_[j + 1])
  std::vector<std::uint32_t> row_;
  std::vector<std::int8_t> sign_;
};

// One requested layer's reduction, checked against the layer's unit shape (C×H×W or C) and, for
// pca, holding the fit of each extracted pass. apply() maps a B×… batch to B×units'.
class Reducer {
 public:
  Reducer() = default;
  // SettingError of "reduce" naming the layer when the reduction does not fit it (a pool on a
  // vector layer or a grid larger than the map, K above the layer's units).
  Reducer(const Reduction& r, std::string layer, std::vector<std::int64_t> unit_shape,
          std::uint64_t run_seed);
  const Reduction& reduction() const { return reduction_; }
  const std::vector<std::int64_t>& unit_shape() const { return unit_shape_; }
  std::int64_t units() const;
  // pca: the fit of each extracted pass (in the order of the passes), checked to match the layer,
  // and where it is stored ("file.h5:/pca/<layer>"), for the file's attributes.
  void set_pca(std::vector<std::shared_ptr<const PcaFit>> fits, std::string source);
  // Whether the reduced units keep a position in the feature map (channel, y, x).
  bool positional() const;
  torch::Tensor apply(const torch::Tensor& x, std::size_t pass_position) const;
  // Attributes on the layer's group saying what the units are.
  void describe(const h5::Group& g) const;

 private:
  Reduction reduction_;
  std::string layer_;
  std::vector<std::int64_t> unit_shape_;
  std::uint64_t seed_ = 0;
  std::shared_ptr<const SparseProjection> srp_;
  std::vector<std::shared_ptr<const PcaFit>> pca_;
  std::string pca_source_;
};

}  // namespace lrm::extract
