#pragma once
// Labelled arrays read from Brain-Score/brainio netCDF-4 assemblies and from plain HDF5 arrays with
// named dimensions: the data (as double, C order), the dimension names, and every 1-D coordinate
// variable attached to one of those dimensions (strings or numbers).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lrm::io {

struct Coordinate {
  std::string dim;  // the dimension it labels
  bool numeric = false;
  std::vector<std::string> text;  // string coordinates (numbers also as their decimal text)
  std::vector<double> values;     // numeric coordinates
};

struct Assembly {
  std::string source;  // "file:/variable", for messages
  std::vector<std::string> dims;
  std::vector<std::uint64_t> shape;
  std::vector<double> data;  // C order
  std::map<std::string, Coordinate> coords;

  bool has(const std::string& coord) const { return coords.count(coord) > 0; }
  // The coordinate's values as text; throws InputError naming the source when it is missing.
  const std::vector<std::string>& strings(const std::string& coord) const;
  std::size_t dim_index(const std::string& dim) const;  // throws when absent
  std::uint64_t size(const std::string& dim) const { return shape[dim_index(dim)]; }
};

// A brainio assembly or any netCDF-4 file of one labelled array (.nc): the data variable is
// `variable` if given, else `data` or `__xarray_dataarray_variable__`, else the one data variable
// of `group` (default the root) whatever its name.
Assembly read_brainio(const std::filesystem::path& path, const std::string& variable = "",
                      const std::string& group = "/");
// A dataset of an HDF5 file (e.g. "rdms.h5:/rdms") with its dimension scales and coordinates.
Assembly read_h5_assembly(const std::filesystem::path& path, const std::string& dataset);

}  // namespace lrm::io
