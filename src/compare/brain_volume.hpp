#pragma once
// fMRI responses from NIfTI single-trial betas (NSD style): a 4-D betas volume with a trial table
// (one row per volume in order: stimulus_id, optionally session), voxels chosen by ROI masks, bad
// voxels (any NaN, or constant) counted and left out, optional per-session z-scoring and selection
// by noise-ceiling SNR from repeats. Repeats are kept as presentations (for the ceiling and the
// SNR) and averaged per stimulus for the regression.
#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "io/h5.hpp"
#include "io/neural_responses.hpp"

namespace lrm::compare {

struct BrainVolumeOptions {
  std::string betas;               // 4-D NIfTI
  std::string trials;              // CSV: stimulus_id[, session]
  std::vector<std::string> rois;   // "mask.nii.gz" (nonzero voxels) or "labels.nii.gz:NAME"
  std::string roi_labels;          // CSV label,name for the NAME form
  bool zscore_by_session = false;  // each voxel z-scored within each session (population sd)
  double ncsnr_min = -std::numeric_limits<double>::infinity();
};

struct BrainVolume {
  io::NeuralResponses responses;        // neuroids: the voxels kept, ids "i_j_k"
  std::vector<std::int64_t> voxel;      // flat grid index (x fastest) of each neuroid
  std::array<std::int64_t, 3> shape{};  // the betas' grid
  Eigen::Matrix4d affine;               // and its affine
  std::int64_t roi_voxels = 0;          // voxels in the ROIs (all voxels without ROIs)
  std::int64_t bad_voxels = 0;          // left out: a NaN, or constant (within a session when
                                        // z-scoring)
  std::int64_t below_ncsnr = 0;         // left out by the ncsnr threshold
  std::vector<std::string> roi_names;   // each ROI as given
  std::vector<std::vector<Eigen::Index>> roi_neuroids;  // the kept voxels (neuroids) of each ROI
};

BrainVolume load_brain_volume(const BrainVolumeOptions& options);
// The same from HDF5 trials x voxels (io::read_h5_trials): no grid (shape 0), every voxel a
// candidate; the trial table and ROIs are SettingErrors (the ids are in the file).
BrainVolume trial_volume(io::TrialResponses trials, const BrainVolumeOptions& options);

// Each ROI's score: the mean over splits of the median of r (split x neuroid) over its neuroids,
// NaN r left out (NaN for an ROI without a defined r). Voxelwise fits are independent, so this is
// the ROI scored on its own.
std::vector<double> roi_scores(const Eigen::MatrixXd& r,
                               const std::vector<std::vector<Eigen::Index>>& members);

// Per-neuroid values as a float32 NIfTI volume in the betas' grid and affine, NaN at every voxel
// not kept (outside the ROIs, bad, or below the ncsnr threshold).
void write_voxel_map(const std::string& path, const BrainVolume& volume,
                     const Eigen::VectorXd& values);

// The betas' grid on a result group, so that its voxel ids "i_j_k" place the scores in the world
// without the NIfTI file: attributes `grid_shape` (int64: x, y, z) and `affine` (float64 4 x 4,
// voxel (i, j, k, 1) -> world mm, as the maps carry it). Nothing for a volume without a grid
// (HDF5 trials x voxels).
void write_grid(const h5::Group& g, const BrainVolume& volume);

// The maps `values[i]` as `dir`/`names[i]`.nii.gz, written into `dir`.partial and renamed to `dir`
// when all are written (replacing an older `dir`).
void write_voxel_maps(const std::string& dir, const BrainVolume& volume,
                      const std::vector<std::string>& names,
                      const std::vector<Eigen::VectorXd>& values);

// NSD's noise-ceiling SNR per column: noise sd = sqrt(mean over stimuli with 2 or more
// presentations of their variance (ddof 1)), signal sd = sqrt(max(0, total variance (ddof 1) -
// noise variance)), ncsnr = signal sd / noise sd. An InputError without repeated stimuli.
Eigen::VectorXd noise_ceiling_snr(const Eigen::MatrixXd& presentations,
                                  const std::vector<Eigen::Index>& stimulus_of,
                                  Eigen::Index stimuli);

// Each column z-scored within each group of rows (population sd); a column constant within a
// group becomes NaN there.
void zscore_within(Eigen::MatrixXd& values, const std::vector<std::string>& groups);

}  // namespace lrm::compare
