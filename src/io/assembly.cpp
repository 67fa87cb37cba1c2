#include "io/assembly.hpp"

#include <cstdio>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "io/h5.hpp"

namespace lrm::io {
namespace {

std::string join_path(const std::string& group, const std::string& name) {
  if (group.empty() || group == "/") return "/" + name;
  return group + "/" + name;
}

// netCDF-4 marks a dimension without coordinate values by this NAME on its scale dataset.
bool is_bare_dimension(const h5::File& f, const std::string& path) {
  const auto name = h5::dataset_attr_string(f, path, "NAME");
  return name && name->rfind("This is a netCDF dimension", 0) == 0;
}

Assembly read_labelled(const h5::File& f, const std::string& path) {
  Assembly a;
  a.source = f.path().string() + ":" + path;
  if (h5::is_string_dataset(f, path)) throw InputError(a.source + " holds strings, not numbers");
  auto values = h5::read_array<double>(f, path);
  a.shape = values.shape;
  a.data = std::move(values.data);
  a.dims = h5::dimension_names(f, path);
  for (std::size_t i = 0; i < a.dims.size(); ++i)
    if (a.dims[i].empty()) a.dims[i] = "dim_" + std::to_string(i);
  const std::string group = path.substr(0, path.find_last_of('/'));
  auto g = group.empty() ? f.root() : f.root().group(group);
  for (const auto& name : g.children()) {
    const std::string child = join_path(group, name);
    if (child == path || !g.has_dataset(name)) continue;
    const auto shape = h5::dataset_shape(f, child);
    if (shape.size() != 1) continue;
    std::string dim = h5::dimension_names(f, child).at(0);
    if (dim.empty()) {
      // A dimension scale holding values is its own dimension's coordinate.
      bool own = false;
      for (const auto& d : a.dims) own = own || d == name;
      if (!own || is_bare_dimension(f, child)) continue;
      dim = name;
    }
    std::size_t axis = a.dims.size();
    for (std::size_t i = 0; i < a.dims.size(); ++i)
      if (a.dims[i] == dim) axis = i;
    if (axis == a.dims.size() || a.shape[axis] != shape[0]) continue;
    Coordinate c;
    c.dim = dim;
    c.numeric = !h5::is_string_dataset(f, child);
    if (c.numeric) c.values = h5::read_array<double>(f, child).data;
    c.text = h5::read_strings(f, child);
    if (c.numeric) {
      // Integers read back as "3", not "3.0000000000000000".
      for (std::size_t i = 0; i < c.values.size(); ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", c.values[i]);
        c.text[i] = buf;
      }
    }
    a.coords.emplace(name, std::move(c));
  }
  return a;
}

}  // namespace

const std::vector<std::string>& Assembly::strings(const std::string& coord) const {
  auto it = coords.find(coord);
  if (it == coords.end()) throw InputError(source + " has no coordinate '" + coord + "'");
  return it->second.text;
}

std::size_t Assembly::dim_index(const std::string& dim) const {
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (dims[i] == dim) return i;
  std::string known;
  for (const auto& d : dims) known += (known.empty() ? "" : ", ") + d;
  throw InputError(source + " has no dimension '" + dim + "' (it has " + known + ")");
}

namespace {

// The data variables of a netCDF group: datasets that are neither dimensions (dimension scales)
// nor coordinates listed in another variable's `coordinates` attribute.
std::vector<std::string> data_variables(const h5::File& f, const std::string& group) {
  auto g = group == "/" ? f.root() : f.root().group(group);
  std::vector<std::string> candidates;
  std::set<std::string> coordinates;
  for (const auto& name : g.children()) {
    if (!g.has_dataset(name)) continue;
    const std::string path = join_path(group, name);
    if (h5::dataset_attr_string(f, path, "CLASS") == std::string("DIMENSION_SCALE")) continue;
    candidates.push_back(name);
    std::istringstream listed(h5::dataset_attr_string(f, path, "coordinates").value_or(""));
    for (std::string c; listed >> c;) coordinates.insert(c);
  }
  std::vector<std::string> data;
  for (const auto& c : candidates)
    if (!coordinates.count(c)) data.push_back(c);
  return data;
}

// The data variable: `data` or `__xarray_dataarray_variable__` (brainio, xarray's unnamed
// DataArray), else the group's one data variable whatever its name.
std::string find_data_variable(const h5::File& f, const std::filesystem::path& path,
                               const std::string& group) {
  for (const char* candidate : {"__xarray_dataarray_variable__", "data"})
    if (h5::exists(f, join_path(group, candidate))) return candidate;
  const auto data = data_variables(f, group);
  if (data.size() == 1) return data[0];
  if (data.empty()) throw InputError(path.string() + " holds no data variable in group " + group);
  std::string names;
  for (const auto& d : data) names += (names.empty() ? "" : ", ") + d;
  throw InputError(path.string() + " holds several data variables (" + names + "); name one as " +
                   path.string() + ":" + join_path(group, data[0]));
}

}  // namespace

Assembly read_brainio(const std::filesystem::path& path, const std::string& variable,
                      const std::string& group) {
  h5::File f(path, h5::File::Mode::read);
  if (group != "/" && !f.root().has_group(group.substr(1)))
    throw InputError(path.string() + " has no group " + group);
  const std::string name = variable.empty() ? find_data_variable(f, path, group) : variable;
  if (!h5::exists(f, join_path(group, name)))
    throw InputError(path.string() + " has no variable " + join_path(group, name));
  return read_labelled(f, join_path(group, name));
}

Assembly read_h5_assembly(const std::filesystem::path& path, const std::string& dataset) {
  h5::File f(path, h5::File::Mode::read);
  if (!h5::exists(f, dataset))
    throw InputError("HDF5 dataset " + path.string() + ":" + dataset + " does not exist");
  return read_labelled(f, dataset);
}

}  // namespace lrm::io
