#pragma once
// NIfTI-1/2 volumes (.nii, .nii.gz) through libnifti2: fMRI betas (x, y, z, volume) and masks read
// as float, score maps written as float32 in a given grid.
#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace lrm::io {

struct Volume {
  std::array<std::int64_t, 3> shape{};  // x, y, z
  std::int64_t volumes = 1;             // the 4th dimension (1 for a 3-D image)
  Eigen::Matrix4d affine;               // voxel (i, j, k, 1) -> world; sform, else qform
  std::vector<float> data;              // x fastest, then y, z, volume (scaling applied)
  std::int64_t voxels() const { return shape[0] * shape[1] * shape[2]; }
};

// A path ending in .nii or .nii.gz.
bool is_nifti_path(const std::string& path);

// The image with its values as float (scl_slope/scl_inter applied, as nibabel does); an InputError
// naming the file when it cannot be read or has more than 4 dimensions.
Volume read_nifti(const std::string& path);

// The grid (shape, volume count, affine) alone, data left unread.
Volume read_nifti_grid(const std::string& path);

// The values (as read_nifti gives them) of `voxels` (flat indices, x fastest) in every volume:
// volume x voxel, read a volume at a time, so memory is the result and one volume.
Eigen::MatrixXd read_nifti_voxels(const std::string& path, const std::vector<std::int64_t>& voxels);

// Whether two volumes share a grid: the same x, y, z shape and affine (to 1e-4 of a voxel/mm).
bool same_grid(const Volume& a, const Volume& b);

// One 3-D float32 volume in `shape` and `affine` (as the sform and qform), NIfTI-1, to `path`.
void write_nifti(const std::string& path, const std::array<std::int64_t, 3>& shape,
                 const Eigen::Matrix4d& affine, const std::vector<float>& data);

}  // namespace lrm::io
