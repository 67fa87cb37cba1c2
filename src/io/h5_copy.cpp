#include "io/h5_copy.hpp"

#include <hdf5_hl.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "common/error.hpp"

namespace lrm::h5 {
namespace {

// The source file's dimension scales, keyed by the object reference DIMENSION_LIST stores so that
// a scale is found by address instead of HDF5's search of the whole file for a name, and the
// datasets with dimensions. Paths are without the leading '/'; an object with several names (hard
// links, which H5Ocopy keeps shared) is listed under the first.
struct SourceTree {
  std::map<hobj_ref_t, std::string> scales;
  std::vector<std::pair<std::string, std::vector<std::vector<hobj_ref_t>>>> attached;
  std::set<haddr_t> visited;
  std::string error;
};

// The scales attached to each dimension, as the object references DIMENSION_LIST stores.
std::optional<std::vector<std::vector<hobj_ref_t>>> dimension_list(hid_t dataset) {
  Handle attr(H5Aopen(dataset, "DIMENSION_LIST", H5P_DEFAULT));
  Handle space(H5Aget_space(attr.id()));
  Handle type(H5Tvlen_create(H5T_STD_REF_OBJ));
  std::vector<hvl_t> lists(
      static_cast<size_t>(std::max<hssize_t>(H5Sget_simple_extent_npoints(space.id()), 0)));
  if (H5Aread(attr.id(), type.id(), lists.data()) < 0) return std::nullopt;
  std::vector<std::vector<hobj_ref_t>> refs;
  for (const auto& l : lists) {
    const auto* p = static_cast<const hobj_ref_t*>(l.p);
    refs.emplace_back(p, p + l.len);
  }
  H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, lists.data());
  return refs;
}

herr_t visit(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  auto& tree = *static_cast<SourceTree*>(data);
  if (info->type != H5L_TYPE_HARD || !tree.visited.insert(info->u.address).second) return 0;
  Handle obj(H5Oopen(group, name, H5P_DEFAULT));
  if (!obj.valid()) {
    tree.error = std::string("cannot open /") + name;
    return -1;
  }
  if (H5Iget_type(obj.id()) != H5I_DATASET) return 0;
  if (H5DSis_scale(obj.id()) > 0) {
    hobj_ref_t ref = 0;
    if (H5Rcreate(&ref, group, name, H5R_OBJECT, -1) < 0) {
      tree.error = std::string("cannot reference /") + name;
      return -1;
    }
    tree.scales.emplace(ref, name);
  }
  if (H5Aexists(obj.id(), "DIMENSION_LIST") > 0) {
    auto dims = dimension_list(obj.id());
    if (!dims) {
      tree.error = std::string("cannot read the dimensions of /") + name;
      return -1;
    }
    tree.attached.emplace_back(name, std::move(*dims));
  }
  return 0;
}

}  // namespace

void copy_children(const File& src, const Group& dest) {
  const std::string source = src.path().string();
  const auto root = src.root();
  SourceTree tree;
  if (H5Lvisit(root.id(), H5_INDEX_NAME, H5_ITER_INC, visit, &tree) < 0)
    throw InputError("cannot read " + source + (tree.error.empty() ? "" : ": " + tree.error));
  for (const auto& [path, dims] : tree.attached)
    for (const auto& scales : dims)
      for (hobj_ref_t ref : scales)
        if (!tree.scales.count(ref))
          throw InputError("a dimension of /" + path + " in " + source +
                           " refers to no dimension scale of that file (a dangling reference)");
  for (const auto& child : root.children())
    if (H5Ocopy(root.id(), child.c_str(), dest.id(), child.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
      throw InputError("cannot copy /" + child + " of " + source + " into " + dest.path());
  const auto fail_on = [&](herr_t status, const std::string& path) {
    if (status < 0)
      throw InputError("cannot re-attach the dimension scales of /" + path + " of " + source +
                       " copied into " + dest.path());
  };
  for (const auto& [ref, scale] : tree.scales)
    if (H5Aexists_by_name(dest.id(), scale.c_str(), "REFERENCE_LIST", H5P_DEFAULT) > 0)
      fail_on(H5Adelete_by_name(dest.id(), scale.c_str(), "REFERENCE_LIST", H5P_DEFAULT), scale);
  for (const auto& [path, dims] : tree.attached)
    fail_on(H5Adelete_by_name(dest.id(), path.c_str(), "DIMENSION_LIST", H5P_DEFAULT), path);
  for (const auto& [path, dims] : tree.attached) {
    Handle dataset(H5Dopen2(dest.id(), path.c_str(), H5P_DEFAULT));
    for (unsigned i = 0; i < dims.size(); ++i)
      for (hobj_ref_t ref : dims[i]) {
        Handle scale(H5Dopen2(dest.id(), tree.scales.at(ref).c_str(), H5P_DEFAULT));
        fail_on(H5DSattach_scale(dataset.id(), scale.id(), i), path);
      }
  }
}

void copy_coordinate(const File& src, const std::string& path, const Group& dest,
                     const std::string& name, const std::string& dim) {
  const std::string what = src.path().string() + ":" + path + " into " + dest.path() + "/" + name;
  Handle options(H5Pcreate(H5P_OBJECT_COPY));
  H5Pset_copy_object(options.id(), H5O_COPY_WITHOUT_ATTR_FLAG);
  if (H5Ocopy(src.id(), path.c_str(), dest.id(), name.c_str(), options.id(), H5P_DEFAULT) < 0)
    throw InputError("cannot copy " + what);
  Handle copy(H5Dopen2(dest.id(), name.c_str(), H5P_DEFAULT));
  herr_t status;
  if (dim.empty()) {
    status = H5DSset_scale(copy.id(), name.c_str());
  } else {
    Handle scale(H5Dopen2(dest.id(), dim.c_str(), H5P_DEFAULT));
    status = H5DSattach_scale(copy.id(), scale.id(), 0);
  }
  if (status < 0) throw InputError("cannot make a coordinate of the copy of " + what);
}

bool copy_attribute(const Group& from, const std::string& name, const Group& to) {
  if (H5Aexists(from.id(), name.c_str()) <= 0) return false;
  const std::string what = from.path() + "@" + name + " onto " + to.path();
  Handle attr(H5Aopen(from.id(), name.c_str(), H5P_DEFAULT));
  Handle type(H5Aget_type(attr.id()));
  Handle space(H5Aget_space(attr.id()));
  const auto points = std::max<hssize_t>(H5Sget_simple_extent_npoints(space.id()), 1);
  std::vector<unsigned char> values(H5Tget_size(type.id()) * static_cast<std::size_t>(points));
  if (H5Aread(attr.id(), type.id(), values.data()) < 0) throw InputError("cannot read " + what);
  // Variable-length values (strings) were read as pointers HDF5 allocated: freed after the write.
  const bool variable =
      H5Tis_variable_str(type.id()) > 0 || H5Tdetect_class(type.id(), H5T_VLEN) > 0;
  if (H5Aexists(to.id(), name.c_str()) > 0) H5Adelete(to.id(), name.c_str());
  Handle copy(H5Acreate2(to.id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT));
  const herr_t written = copy.valid() ? H5Awrite(copy.id(), type.id(), values.data()) : -1;
  if (variable) H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, values.data());
  if (written < 0) throw InputError("cannot copy " + what);
  return true;
}

}  // namespace lrm::h5
