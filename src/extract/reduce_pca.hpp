#pragma once
// Principal components of a layer's activations on a fitting set, fitted in streamed form with
// memory bounded by a batch (plus the fit itself), stored in HDF5 so the same projection applies
// to any later stimulus set (README "Reductions").
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/h5.hpp"

namespace lrm::extract {

inline constexpr const char* pca_group = "pca";

// A fit as scikit-learn's PCA holds it: components (K × D, rows unit length; each row's entry of
// largest magnitude positive, svd_flip with u_based_decision=False as scikit-learn's PCA uses
// from 1.5), the mean, the explained variance (ddof 1), its ratio and the singular values.
struct PcaFit {
  std::string layer;
  int pass = 0;
  std::int64_t fit_rows = 0;                                                    // stimuli fitted on
  torch::Tensor components;                                                     // K × D float64
  torch::Tensor mean;                                                           // D float64
  torch::Tensor explained_variance, explained_variance_ratio, singular_values;  // K float64
  std::int64_t units() const { return components.size(1); }
  std::int64_t k() const { return components.size(0); }
};

// Where the fitting set came from, stored with the fits.
struct PcaProvenance {
  std::string stimuli, stimuli_checksum, model;
};

// Fits K components from rows added batch by batch. With D ≤ N it accumulates the D × D
// covariance (shifted by the first batch's mean, for accuracy) and eigendecomposes it; with
// D > N it writes the rows to a scratch file (float32, deleted afterwards), forms the N × N Gram
// matrix of the centred rows over column blocks, eigendecomposes that and maps its eigenvectors
// back to components in a second scan. Either way memory is a batch, the fit and an m × m matrix
// (m = min(N, D)), with the rows read in blocks of about 64 MiB.
class PcaFitter {
 public:
  PcaFitter(std::string layer, int pass, std::int64_t units, std::int64_t rows, std::int64_t k,
            const std::filesystem::path& scratch);
  ~PcaFitter();
  PcaFitter(const PcaFitter&) = delete;
  PcaFitter& operator=(const PcaFitter&) = delete;
  // rows × D, row-major float32.
  void add(const float* data, std::int64_t rows);
  // InputError naming the layer when fewer than K components have nonzero variance.
  PcaFit finish();

 private:
  torch::Tensor gram_eigen(torch::Tensor& eigenvalues);
  torch::Tensor read_columns(std::int64_t first, std::int64_t count) const;
  std::string layer_;
  int pass_;
  std::int64_t units_, rows_, k_, added_ = 0;
  bool gram_;
  torch::Tensor sum_, shift_, cross_;  // cross_: the shifted D × D cross-product (covariance form)
  std::filesystem::path scratch_;
  std::FILE* file_ = nullptr;
};

using PcaFits = std::map<std::pair<std::string, int>, std::shared_ptr<const PcaFit>>;
// Writes fits under /pca/<layer>/pass<k> of `root`, with the provenance on /pca.
void write_pca_fits(const h5::Group& root, const PcaFits& fits, const PcaProvenance& provenance);
// Whether `file` holds complete fits under /pca.
bool has_pca_fits(const h5::File& file);
// Every fit stored under /pca of `file`, by (layer, pass); an InputError naming the file when it
// has none.
PcaFits read_pca_fits(const h5::File& file);
// Rank 0's fits on every rank: an MPI collective that every rank calls (with one rank, `fits`).
PcaFits broadcast_pca_fits(const PcaFits& fits);
// The fit of (layer, pass) among `fits` read from `file`; an InputError naming the layer (and the
// layers the file holds) when absent.
std::shared_ptr<const PcaFit> find_pca_fit(const PcaFits& fits, const std::string& layer, int pass,
                                           const std::filesystem::path& file);

}  // namespace lrm::extract
