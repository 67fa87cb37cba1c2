#include "io/nifti.hpp"

#include <nifti2_io.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "common/error.hpp"

namespace lrm::io {
namespace {

using Image = std::unique_ptr<nifti_image, void (*)(nifti_image*)>;

Eigen::Matrix4d to_eigen(const nifti_dmat44& m) {
  Eigen::Matrix4d out;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) out(i, j) = m.m[i][j];
  return out;
}

nifti_dmat44 to_nifti(const Eigen::Matrix4d& m) {
  nifti_dmat44 out;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) out.m[i][j] = m(i, j);
  return out;
}

template <class T>
void convert(const void* raw, std::vector<float>& out, double slope, double inter) {
  const T* in = static_cast<const T*>(raw);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<float>(static_cast<double>(in[i]) * slope + inter);
}

void convert_data(const nifti_image& nim, std::vector<float>& out, const std::string& path) {
  // nibabel's rule: a zero or non-finite slope means no scaling.
  const bool scaled = nim.scl_slope != 0 && std::isfinite(nim.scl_slope);
  const double slope = scaled ? nim.scl_slope : 1.0;
  const double inter = scaled && std::isfinite(nim.scl_inter) ? nim.scl_inter : 0.0;
  switch (nim.datatype) {
    case DT_UINT8:
      return convert<std::uint8_t>(nim.data, out, slope, inter);
    case DT_INT8:
      return convert<std::int8_t>(nim.data, out, slope, inter);
    case DT_INT16:
      return convert<std::int16_t>(nim.data, out, slope, inter);
    case DT_UINT16:
      return convert<std::uint16_t>(nim.data, out, slope, inter);
    case DT_INT32:
      return convert<std::int32_t>(nim.data, out, slope, inter);
    case DT_UINT32:
      return convert<std::uint32_t>(nim.data, out, slope, inter);
    case DT_INT64:
      return convert<std::int64_t>(nim.data, out, slope, inter);
    case DT_UINT64:
      return convert<std::uint64_t>(nim.data, out, slope, inter);
    case DT_FLOAT32:
      return convert<float>(nim.data, out, slope, inter);
    case DT_FLOAT64:
      return convert<double>(nim.data, out, slope, inter);
    default:
      throw InputError(path + ": NIfTI data type " + nifti_datatype_string(nim.datatype) +
                       " is not a real number type");
  }
}

}  // namespace

bool is_nifti_path(const std::string& path) {
  const auto ends = [&](const std::string& tail) {
    return path.size() >= tail.size() &&
           path.compare(path.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends(".nii") || ends(".nii.gz");
}

Volume read_nifti(const std::string& path) {
  nifti_set_debug_level(0);  // libnifti's own messages would add lines to our one-line errors
  Image nim(nifti_image_read(path.c_str(), 1), nifti_image_free);
  if (!nim || !nim->data) throw InputError(path + ": not a readable NIfTI-1/2 image");
  if (nim->ndim > 4)
    for (int d = 5; d <= nim->ndim; ++d)
      if (nim->dim[d] > 1)
        throw InputError(path + ": a NIfTI image of " + std::to_string(nim->ndim) +
                         " dimensions; expected 3-D or 4-D (x, y, z, volume)");
  Volume v;
  v.shape = {nim->nx, nim->ny, nim->nz};
  for (auto& s : v.shape) s = std::max<std::int64_t>(s, 1);
  v.volumes = nim->ndim >= 4 ? std::max<std::int64_t>(nim->nt, 1) : 1;
  v.affine = to_eigen(nim->sform_code > 0 ? nim->sto_xyz : nim->qto_xyz);
  v.data.resize(static_cast<std::size_t>(v.voxels() * v.volumes));
  convert_data(*nim, v.data, path);
  return v;
}

bool same_grid(const Volume& a, const Volume& b) {
  return a.shape == b.shape && (a.affine - b.affine).cwiseAbs().maxCoeff() < 1e-4;
}

void write_nifti(const std::string& path, const std::array<std::int64_t, 3>& shape,
                 const Eigen::Matrix4d& affine, const std::vector<float>& data) {
  const std::int64_t dims[8] = {3, shape[0], shape[1], shape[2], 1, 1, 1, 1};
  Image nim(nifti_make_new_nim(dims, DT_FLOAT32, 0), nifti_image_free);
  if (!nim) throw InternalError("cannot make a NIfTI image for " + path);
  nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
  nim->sform_code = nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->sto_xyz = to_nifti(affine);
  nim->sto_ijk = nifti_dmat44_inverse(nim->sto_xyz);
  nifti_dmat44_to_quatern(nim->sto_xyz, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d,
                          &nim->qoffset_x, &nim->qoffset_y, &nim->qoffset_z, &nim->dx, &nim->dy,
                          &nim->dz, &nim->qfac);
  nim->pixdim[1] = nim->dx, nim->pixdim[2] = nim->dy, nim->pixdim[3] = nim->dz;
  nim->pixdim[0] = nim->qfac;
  nim->qto_xyz =
      nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c, nim->quatern_d, nim->qoffset_x,
                              nim->qoffset_y, nim->qoffset_z, nim->dx, nim->dy, nim->dz, nim->qfac);
  nim->data = const_cast<float*>(data.data());
  if (nifti_set_filenames(nim.get(), path.c_str(), 0, 1) != 0) {
    nim->data = nullptr;
    throw InputError(path + ": not a NIfTI file name (.nii or .nii.gz)");
  }
  nifti_image_write(nim.get());
  nim->data = nullptr;  // owned by `data`
}

}  // namespace lrm::io
