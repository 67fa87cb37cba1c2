#include "io/nifti.hpp"

#include <nifti2_io.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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

// Calls f(T{}) with the C type of a NIfTI real data type; an InputError naming the file otherwise.
template <class F>
void with_type(int datatype, const std::string& path, F&& f) {
  switch (datatype) {
    case DT_UINT8:
      return f(std::uint8_t{});
    case DT_INT8:
      return f(std::int8_t{});
    case DT_INT16:
      return f(std::int16_t{});
    case DT_UINT16:
      return f(std::uint16_t{});
    case DT_INT32:
      return f(std::int32_t{});
    case DT_UINT32:
      return f(std::uint32_t{});
    case DT_INT64:
      return f(std::int64_t{});
    case DT_UINT64:
      return f(std::uint64_t{});
    case DT_FLOAT32:
      return f(float{});
    case DT_FLOAT64:
      return f(double{});
    default:
      throw InputError(path + ": NIfTI data type " + nifti_datatype_string(datatype) +
                       " is not a real number type");
  }
}

// A stored value as float with scl_slope/scl_inter applied; nibabel's rule: a zero or non-finite
// slope means no scaling.
struct Scaling {
  double slope = 1.0, inter = 0.0;
  explicit Scaling(const nifti_image& nim) {
    if (nim.scl_slope != 0 && std::isfinite(nim.scl_slope)) {
      slope = nim.scl_slope;
      if (std::isfinite(nim.scl_inter)) inter = nim.scl_inter;
    }
  }
  template <class T>
  float operator()(T stored) const {
    return static_cast<float>(static_cast<double>(stored) * slope + inter);
  }
};

// The grid of an image whose header is read; an InputError beyond 4 dimensions.
Volume grid_of(const nifti_image& nim, const std::string& path) {
  if (nim.ndim > 4)
    for (int d = 5; d <= nim.ndim; ++d)
      if (nim.dim[d] > 1)
        throw InputError(path + ": a NIfTI image of " + std::to_string(nim.ndim) +
                         " dimensions; expected 3-D or 4-D (x, y, z, volume)");
  Volume v;
  v.shape = {nim.nx, nim.ny, nim.nz};
  for (auto& s : v.shape) s = std::max<std::int64_t>(s, 1);
  v.volumes = nim.ndim >= 4 ? std::max<std::int64_t>(nim.nt, 1) : 1;
  v.affine = to_eigen(nim.sform_code > 0 ? nim.sto_xyz : nim.qto_xyz);
  return v;
}

Image read_image(const std::string& path, bool with_data) {
  nifti_set_debug_level(0);  // libnifti's own messages would add lines to our one-line errors
  Image nim(nifti_image_read(path.c_str(), with_data ? 1 : 0), nifti_image_free);
  if (!nim || (with_data && !nim->data))
    throw InputError(path + ": not a readable NIfTI-1/2 image");
  return nim;
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
  const Image nim = read_image(path, true);
  Volume v = grid_of(*nim, path);
  v.data.resize(static_cast<std::size_t>(v.voxels() * v.volumes));
  const Scaling scale(*nim);
  with_type(nim->datatype, path, [&](auto type) {
    const auto* in = static_cast<const decltype(type)*>(nim->data);
    for (std::size_t i = 0; i < v.data.size(); ++i) v.data[i] = scale(in[i]);
  });
  return v;
}

Volume read_nifti_grid(const std::string& path) { return grid_of(*read_image(path, false), path); }

Eigen::MatrixXd read_nifti_voxels(const std::string& path,
                                  const std::vector<std::int64_t>& voxels) {
  const Image nim = read_image(path, false);
  const Volume grid = grid_of(*nim, path);
  Eigen::MatrixXd out(grid.volumes, static_cast<Eigen::Index>(voxels.size()));
  const Scaling scale(*nim);
  const bool swap = nim->byteorder != nifti_short_order() && nim->swapsize > 1;
  std::vector<char> raw(static_cast<std::size_t>(grid.voxels() * nim->nbyper));
  // The data file is read front to back, one volume at a time: a .nii.gz cannot seek backwards
  // cheaply, and the whole 4-D image would be 1.3 GB at NSD's size.
  znzFile fp = znzopen(nim->iname, "rb", nifti_is_gzfile(nim->iname));
  if (znz_isnull(fp)) throw InputError(path + ": cannot open its data");
  const std::unique_ptr<znzFile, void (*)(znzFile*)> closer(&fp, [](znzFile* f) { znzclose(*f); });
  if (znzseek(fp, static_cast<long>(nim->iname_offset), SEEK_SET) < 0)
    throw InputError(path + ": cannot reach its data");
  with_type(nim->datatype, path, [&](auto type) {
    using T = decltype(type);
    const auto* in = reinterpret_cast<const T*>(raw.data());
    for (Eigen::Index t = 0; t < grid.volumes; ++t) {
      if (znzread(raw.data(), 1, raw.size(), fp) != raw.size())
        throw InputError(path + ": the data end before volume " + std::to_string(t + 1) + " of " +
                         std::to_string(grid.volumes));
      if (swap) nifti_swap_Nbytes(grid.voxels(), nim->swapsize, raw.data());
      for (std::size_t j = 0; j < voxels.size(); ++j)
        out(t, static_cast<Eigen::Index>(j)) = scale(in[voxels[j]]);
    }
  });
  return out;
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
