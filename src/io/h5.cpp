#include "io/h5.hpp"

#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "common/error.hpp"
#include "io/h5_check.hpp"

namespace lrm::h5 {

void silence_errors_on_this_thread() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {

// HDF5 prints its own error stack by default; the suite reports errors itself. Its exit handler
// would close files left open after a failed write (disk full) once more and crash; the suite
// closes every file itself, and an unfinished one is only ever a `.partial`.
struct ConfigureHdf5 {
  ConfigureHdf5() {
    H5dont_atexit();
    silence_errors_on_this_thread();
  }
} configure_hdf5;

[[noreturn]] void fail(const std::string& what) { throw InputError(what); }

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.id(), H5T_VARIABLE);
  H5Tset_cset(t.id(), H5T_CSET_UTF8);
  return t;
}

// Names longer than this are corrupt.
constexpr ssize_t kMaxName = 1 << 16;
// Fixed-length strings (labels, ids, attribute text) wider than this are corrupt.
constexpr size_t kMaxString = 1 << 20;

std::string object_name(hid_t id) {
  const ssize_t n = H5Iget_name(id, nullptr, 0);
  if (n <= 0 || n > kMaxName) return "?";
  std::string s(static_cast<size_t>(n), '\0');
  H5Iget_name(id, s.data(), s.size() + 1);
  return s;
}

std::string file_name(hid_t id) {
  const ssize_t n = H5Fget_name(id, nullptr, 0);
  if (n <= 0 || n > kMaxName) return "?";
  std::string s(static_cast<size_t>(n), '\0');
  H5Fget_name(id, s.data(), s.size() + 1);
  return s;
}

std::string where(hid_t loc, const std::string& name) {
  return file_name(loc) + ":" + object_name(loc) + (object_name(loc) == "/" ? "" : "/") + name;
}

Handle open_dataset(hid_t loc, const std::string& path) {
  if (H5LTpath_valid(loc, path.c_str(), 1) <= 0)
    fail("HDF5 dataset " + file_name(loc) + ":" + path + " does not exist");
  return Handle(check(H5Dopen2(loc, path.c_str(), H5P_DEFAULT),
                      "cannot open HDF5 dataset " + file_name(loc) + ":" + path));
}

std::vector<std::uint64_t> shape_of(hid_t dataset) {
  Handle space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0 || rank > H5S_MAX_RANK)
    fail("HDF5 dataset " + file_name(dataset) + ":" + object_name(dataset) +
         " has no valid shape (corrupt file?)");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr) < 0)
    fail("HDF5 dataset " + file_name(dataset) + ":" + object_name(dataset) +
         " has no valid shape (corrupt file?)");
  return {dims.begin(), dims.end()};
}

// The number of elements of a shape, saturating instead of overflowing.
std::uint64_t element_count(const std::vector<std::uint64_t>& shape) {
  std::uint64_t n = 1;
  for (auto d : shape) {
    if (d != 0 && n > std::numeric_limits<std::uint64_t>::max() / d)
      return std::numeric_limits<std::uint64_t>::max();
    n *= d;
  }
  return n;
}

// A corrupt shape or string width can claim more than the machine holds; refuse it before
// allocating rather than fail in the allocator.
void check_fits(std::uint64_t n, std::uint64_t elem_size, const std::string& what) {
  static const std::uint64_t memory = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                                      static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  if (elem_size != 0 && n > memory / elem_size)
    fail(what + " claims " + std::to_string(n) + " elements of " + std::to_string(elem_size) +
         " bytes, more than this machine's memory (corrupt file?)");
}

// Variable-length data of an input file (strings, dimension lists in the global heap) is read by
// the checking process (h5_check.hpp); files the suite writes, and that process, read it directly.
bool reads_directly(hid_t obj) {
  if (in_check_child()) return true;
  Handle file(H5Iget_file_id(obj));
  unsigned intent = 0;
  return H5Fget_intent(file.id(), &intent) >= 0 && (intent & H5F_ACC_RDWR) != 0;
}

// Attributes the suite reads hold one value; reading an array into one value would overrun it.
bool is_single_value(hid_t attr) {
  Handle space(H5Aget_space(attr));
  return space.valid() && H5Sget_simple_extent_npoints(space.id()) == 1;
}

void set_attr_string(hid_t obj, const std::string& name, const std::string& value) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle type = string_type();
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(check(H5Acreate2(obj, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                    "cannot write attribute " + name));
  const char* p = value.c_str();
  check_status(H5Awrite(attr.id(), type.id(), &p), "cannot write attribute " + name);
}

// A scalar attribute when `shape` is empty, else an array of that shape (values in C order).
template <typename T>
void set_attr_values(hid_t obj, const std::string& name, const T* values,
                     const std::vector<std::uint64_t>& shape) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(dims.empty()
                   ? H5Screate(H5S_SCALAR)
                   : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Handle attr(
      check(H5Acreate2(obj, name.c_str(), native_type<T>(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
            "cannot write attribute " + name));
  check_status(H5Awrite(attr.id(), native_type<T>(), values), "cannot write attribute " + name);
}

template <typename T>
void set_attr_value(hid_t obj, const std::string& name, T value) {
  set_attr_values(obj, name, &value, {});
}

template <typename T>
void set_attr_array(hid_t obj, const std::string& name, const std::vector<T>& values,
                    const std::vector<std::uint64_t>& shape) {
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  if (shape.empty() || n != values.size())
    throw std::logic_error("attribute " + name + ": " + std::to_string(values.size()) +
                           " values do not fill its shape");
  set_attr_values(obj, name, values.data(), shape);
}

std::optional<std::string> get_attr_string(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid() || !is_single_value(attr.id())) return std::nullopt;
  Handle ftype(H5Aget_type(attr.id()));
  if (H5Tget_class(ftype.id()) != H5T_STRING) return std::nullopt;
  if (H5Tis_variable_str(ftype.id()) > 0) {
    if (!reads_directly(obj)) return checked_attr_string(file_name(obj), object_name(obj), name);
    Handle type = string_type();
    char* p = nullptr;
    if (H5Aread(attr.id(), type.id(), &p) < 0 || p == nullptr) return std::nullopt;
    std::string s(p);
    H5free_memory(p);
    return s;
  }
  const size_t n = H5Tget_size(ftype.id());
  if (n == 0 || n > kMaxString) return std::nullopt;
  std::string s(n, '\0');
  if (H5Aread(attr.id(), ftype.id(), s.data()) < 0) return std::nullopt;
  s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
  return s;
}

std::optional<double> get_attr_number(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid() || !is_single_value(attr.id())) return std::nullopt;
  Handle ftype(H5Aget_type(attr.id()));
  const auto cls = H5Tget_class(ftype.id());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return std::nullopt;
  double v = 0;
  if (H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v) < 0) return std::nullopt;
  return v;
}

Handle create_plist(const std::vector<hsize_t>& chunk, bool compress) {
  Handle plist(H5Pcreate(H5P_DATASET_CREATE));
  if (!chunk.empty()) {
    H5Pset_chunk(plist.id(), static_cast<int>(chunk.size()), chunk.data());
    if (compress) {
      H5Pset_shuffle(plist.id());
      H5Pset_deflate(plist.id(), 1);
    }
  }
  return plist;
}

// Chunks of about 1 MiB along the first dimension: rows stream in and are read in row blocks.
std::vector<hsize_t> default_chunk(const std::vector<std::uint64_t>& shape, size_t elem_size,
                                   std::uint64_t max_rows) {
  if (shape.empty()) return {};
  std::uint64_t row_elems = 1;
  for (size_t i = 1; i < shape.size(); ++i) row_elems *= std::max<std::uint64_t>(shape[i], 1);
  std::vector<hsize_t> chunk(shape.begin(), shape.end());
  for (auto& c : chunk) c = std::max<hsize_t>(c, 1);
  // Very long rows are split along the last dimension to keep chunks under HDF5's 4 GiB limit.
  const std::uint64_t target = (1u << 20) / elem_size;
  std::uint64_t rows = std::max<std::uint64_t>(1, target / std::max<std::uint64_t>(row_elems, 1));
  rows = std::min<std::uint64_t>({rows, std::max<std::uint64_t>(shape[0], 1), max_rows});
  chunk[0] = rows;
  while (shape.size() > 1 && row_elems > 64 * target) {
    chunk.back() = std::max<hsize_t>(1, chunk.back() / 2);
    row_elems /= 2;
  }
  return chunk;
}

void attach_dims(const Group& g, hid_t dataset, const std::vector<std::uint64_t>& shape,
                 const std::vector<std::string>& dims) {
  if (dims.empty()) return;
  if (dims.size() != shape.size())
    fail("internal: " + std::to_string(dims.size()) + " dimension names for a rank-" +
         std::to_string(shape.size()) + " array");
  for (size_t i = 0; i < dims.size(); ++i) {
    if (!g.has_dataset(dims[i])) write_dimension(g, dims[i], shape[i]);
    Handle scale(H5Dopen2(g.id(), dims[i].c_str(), H5P_DEFAULT));
    const auto scale_shape = shape_of(scale.id());
    if (scale_shape.size() != 1 || scale_shape[0] != shape[i])
      fail("internal: dimension " + dims[i] + " of " + g.path() + " has length " +
           std::to_string(scale_shape.empty() ? 0 : scale_shape[0]) + ", array needs " +
           std::to_string(shape[i]));
    check_status(H5DSattach_scale(dataset, scale.id(), static_cast<unsigned>(i)),
                 "cannot attach dimension " + dims[i]);
  }
}

void apply_options(hid_t dataset, const ArrayOptions& options) {
  if (!options.coordinates.empty()) {
    std::string joined;
    for (const auto& c : options.coordinates) joined += (joined.empty() ? "" : " ") + c;
    set_attr_string(dataset, "coordinates", joined);
  }
  for (const auto& [k, v] : options.attrs) set_attr_string(dataset, k, v);
}

Handle make_scale_dataset(const Group& g, const std::string& name, hid_t type, std::uint64_t n) {
  if (g.has(name)) g.remove(name);
  hsize_t dims[1] = {n};
  Handle space(H5Screate_simple(1, dims, nullptr));
  return Handle(check(
      H5Dcreate2(g.id(), name.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      "cannot create dimension " + name + " in " + g.path()));
}

void write_string_data(hid_t dataset, const std::vector<std::string>& values) {
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  Handle type = string_type();
  // A conversion buffer the size of the data rather than HDF5's 1 MiB default, which it zeroes and
  // returns to the system on every write.
  Handle transfer(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_buffer(transfer.id(), std::max<std::size_t>(values.size(), 1) * 16, nullptr, nullptr);
  if (!values.empty())
    check_status(H5Dwrite(dataset, type.id(), H5S_ALL, H5S_ALL, transfer.id(), ptrs.data()),
                 "cannot write strings");
}

}  // namespace

template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
hid_t native_type<std::int32_t>() {
  return H5T_NATIVE_INT32;
}
template <>
hid_t native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}
template <>
hid_t native_type<std::int8_t>() {
  return H5T_NATIVE_INT8;
}

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    close();
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

Handle::~Handle() { close(); }

void Handle::close() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    default:
      break;
  }
  id_ = H5I_INVALID_HID;
}

template <typename T>
std::uint64_t Array<T>::row_size() const {
  std::uint64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}
template struct Array<float>;
template struct Array<double>;
template struct Array<std::int64_t>;
template struct Array<std::int32_t>;
template struct Array<std::uint8_t>;

File::File(const std::filesystem::path& path, Mode mode) : path_(path) {
  const std::string p = path.string();
  switch (mode) {
    case Mode::read:
    case Mode::read_write: {
      if (!std::filesystem::exists(path)) fail("HDF5 file " + p + " does not exist");
      check_readable(path);
      if (H5Fis_hdf5(p.c_str()) <= 0) fail(p + " is not an HDF5 file (or it is truncated)");
      handle_ = Handle(
          H5Fopen(p.c_str(), mode == Mode::read ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT));
      if (!handle_.valid()) fail("cannot open HDF5 file " + p + " (corrupt, truncated or locked)");
      break;
    }
    case Mode::create_truncate: {
      // Track creation order so groups list their children in the order they were written.
      Handle fcpl(H5Pcreate(H5P_FILE_CREATE));
      H5Pset_link_creation_order(fcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
      handle_ = Handle(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, fcpl.id(), H5P_DEFAULT));
      if (!handle_.valid()) fail("cannot create " + p + " (is the folder writable?)");
      break;
    }
  }
}

Group File::root() const {
  return Group(Handle(check(H5Gopen2(handle_.id(), "/", H5P_DEFAULT), "cannot open root group")),
               "/");
}

void File::flush() const { H5Fflush(handle_.id(), H5F_SCOPE_GLOBAL); }

bool Group::has(const std::string& name) const { return H5LTpath_valid(id(), name.c_str(), 0) > 0; }

bool Group::has_group(const std::string& name) const {
  if (H5LTpath_valid(id(), name.c_str(), 1) <= 0) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name2(id(), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return false;
  return info.type == H5O_TYPE_GROUP;
}

bool Group::has_dataset(const std::string& name) const {
  if (H5LTpath_valid(id(), name.c_str(), 1) <= 0) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name2(id(), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return false;
  return info.type == H5O_TYPE_DATASET;
}

Group Group::group(const std::string& name) const {
  if (!has_group(name)) fail("HDF5 group " + where(id(), name) + " does not exist");
  return Group(Handle(H5Gopen2(id(), name.c_str(), H5P_DEFAULT)),
               path_ == "/" ? "/" + name : path_ + "/" + name);
}

Group Group::require_group(const std::string& name) const {
  if (has_group(name)) return group(name);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  Handle gcpl(H5Pcreate(H5P_GROUP_CREATE));
  H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  Handle g(check(H5Gcreate2(id(), name.c_str(), lcpl.id(), gcpl.id(), H5P_DEFAULT),
                 "cannot create HDF5 group " + where(id(), name)));
  return Group(std::move(g), path_ == "/" ? "/" + name : path_ + "/" + name);
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  H5G_info_t info;
  if (H5Gget_info(id(), &info) < 0)
    fail("cannot list HDF5 group " + where(id(), "") + " (corrupt file?)");
  Handle gcpl(H5Gget_create_plist(id()));
  unsigned order_flags = 0;
  H5Pget_link_creation_order(gcpl.id(), &order_flags);
  const H5_index_t index =
      (order_flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(id(), ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n <= 0 || n > kMaxName)
      fail("cannot list HDF5 group " + where(id(), "") + " (corrupt file?)");
    std::string s(static_cast<size_t>(n), '\0');
    if (H5Lget_name_by_idx(id(), ".", index, H5_ITER_INC, i, s.data(), s.size() + 1, H5P_DEFAULT) <
        0)
      fail("cannot list HDF5 group " + where(id(), "") + " (corrupt file?)");
    names.push_back(s);
  }
  return names;
}

void Group::remove(const std::string& name) const {
  check_status(H5Ldelete(id(), name.c_str(), H5P_DEFAULT), "cannot remove " + where(id(), name));
}

void Group::set_attr(const std::string& name, const std::string& value) const {
  set_attr_string(id(), name, value);
}
void Group::set_attr(const std::string& name, double value) const {
  set_attr_value<double>(id(), name, value);
}
void Group::set_attr(const std::string& name, std::int64_t value) const {
  set_attr_value<std::int64_t>(id(), name, value);
}
void Group::set_attr(const std::string& name, const std::vector<double>& values,
                     const std::vector<std::uint64_t>& shape) const {
  set_attr_array(id(), name, values, shape);
}
void Group::set_attr(const std::string& name, const std::vector<std::int64_t>& values,
                     const std::vector<std::uint64_t>& shape) const {
  set_attr_array(id(), name, values, shape);
}
std::optional<std::string> Group::attr_string(const std::string& name) const {
  return get_attr_string(id(), name);
}
std::optional<double> Group::attr_number(const std::string& name) const {
  return get_attr_number(id(), name);
}

void write_dimension(const Group& g, const std::string& name, std::uint64_t length) {
  Handle ds = make_scale_dataset(g, name, H5T_NATIVE_FLOAT, length);
  char label[128];
  // The netCDF-4 marker for a dimension without coordinate values (read by h5netcdf/xarray).
  std::snprintf(label, sizeof label, "This is a netCDF dimension but not a netCDF variable.%10llu",
                static_cast<unsigned long long>(length));
  check_status(H5DSset_scale(ds.id(), label), "cannot make dimension " + name);
}

void write_coordinate(const Group& g, const std::string& dim,
                      const std::vector<std::string>& values) {
  Handle type = string_type();
  Handle ds = make_scale_dataset(g, dim, type.id(), values.size());
  write_string_data(ds.id(), values);
  check_status(H5DSset_scale(ds.id(), dim.c_str()), "cannot make dimension " + dim);
}

template <typename T>
static void write_numeric_coordinate(const Group& g, const std::string& dim,
                                     const std::vector<T>& values) {
  Handle ds = make_scale_dataset(g, dim, native_type<T>(), values.size());
  if (!values.empty())
    check_status(H5Dwrite(ds.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                 "cannot write coordinate " + dim);
  check_status(H5DSset_scale(ds.id(), dim.c_str()), "cannot make dimension " + dim);
}

void write_coordinate(const Group& g, const std::string& dim,
                      const std::vector<std::int64_t>& values) {
  write_numeric_coordinate(g, dim, values);
}
void write_coordinate(const Group& g, const std::string& dim, const std::vector<double>& values) {
  write_numeric_coordinate(g, dim, values);
}

void write_aux_coordinate(const Group& g, const std::string& name, const std::string& dim,
                          const std::vector<std::string>& values) {
  write_strings(g, name, values, dim);
}

void write_aux_coordinate(const Group& g, const std::string& name, const std::string& dim,
                          const std::vector<std::int64_t>& values) {
  write_array(g, name, values.data(), {values.size()}, {dim}, ArrayOptions{{}, false, {}});
}

template <typename T>
void write_array(const Group& g, const std::string& name, const T* data,
                 const std::vector<std::uint64_t>& shape, const std::vector<std::string>& dims,
                 const ArrayOptions& options) {
  if (g.has(name)) g.remove(name);
  std::vector<hsize_t> hdims(shape.begin(), shape.end());
  Handle space(hdims.empty()
                   ? H5Screate(H5S_SCALAR)
                   : H5Screate_simple(static_cast<int>(hdims.size()), hdims.data(), nullptr));
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  const bool chunked = options.compress && n * sizeof(T) > 64 * 1024 && !shape.empty();
  Handle plist = create_plist(
      chunked ? default_chunk(shape, sizeof(T), ~0ull) : std::vector<hsize_t>{}, options.compress);
  Handle ds(check(H5Dcreate2(g.id(), name.c_str(), native_type<T>(), space.id(), H5P_DEFAULT,
                             plist.id(), H5P_DEFAULT),
                  "cannot create dataset " + where(g.id(), name)));
  if (n > 0)
    check_status(H5Dwrite(ds.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                 "cannot write dataset " + where(g.id(), name) + " (disk full?)");
  attach_dims(g, ds.id(), shape, dims);
  apply_options(ds.id(), options);
}

template void write_array<float>(const Group&, const std::string&, const float*,
                                 const std::vector<std::uint64_t>&, const std::vector<std::string>&,
                                 const ArrayOptions&);
template void write_array<double>(const Group&, const std::string&, const double*,
                                  const std::vector<std::uint64_t>&,
                                  const std::vector<std::string>&, const ArrayOptions&);
template void write_array<std::int64_t>(const Group&, const std::string&, const std::int64_t*,
                                        const std::vector<std::uint64_t>&,
                                        const std::vector<std::string>&, const ArrayOptions&);
template void write_array<std::int32_t>(const Group&, const std::string&, const std::int32_t*,
                                        const std::vector<std::uint64_t>&,
                                        const std::vector<std::string>&, const ArrayOptions&);
template void write_array<std::uint8_t>(const Group&, const std::string&, const std::uint8_t*,
                                        const std::vector<std::uint64_t>&,
                                        const std::vector<std::string>&, const ArrayOptions&);
template void write_array<std::int8_t>(const Group&, const std::string&, const std::int8_t*,
                                       const std::vector<std::uint64_t>&,
                                       const std::vector<std::string>&, const ArrayOptions&);

void write_strings(const Group& g, const std::string& name, const std::vector<std::string>& values,
                   const std::string& dim) {
  if (g.has(name)) g.remove(name);
  Handle type = string_type();
  hsize_t dims[1] = {values.size()};
  Handle space(H5Screate_simple(1, dims, nullptr));
  Handle ds(check(H5Dcreate2(g.id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
                  "cannot create dataset " + where(g.id(), name)));
  write_string_data(ds.id(), values);
  if (!dim.empty()) attach_dims(g, ds.id(), {values.size()}, {dim});
}

void write_scalar(const Group& g, const std::string& name, double value) {
  write_array<double>(g, name, &value, {}, {}, ArrayOptions{{}, false, {}});
}

template <typename T>
RowWriter<T>::RowWriter(const Group& g, const std::string& name,
                        std::vector<std::uint64_t> row_shape, std::uint64_t total_rows,
                        std::uint64_t chunk_rows, const std::vector<std::string>& dims,
                        const ArrayOptions& options)
    : row_shape_(std::move(row_shape)), total_rows_(total_rows) {
  if (g.has(name)) g.remove(name);
  std::vector<std::uint64_t> shape{total_rows};
  shape.insert(shape.end(), row_shape_.begin(), row_shape_.end());
  std::vector<hsize_t> hdims(shape.begin(), shape.end());
  Handle space(H5Screate_simple(static_cast<int>(hdims.size()), hdims.data(), nullptr));
  chunk_rows = std::max<std::uint64_t>(chunk_rows, 1);
  auto chunk = default_chunk(shape, sizeof(T), chunk_rows);
  // Chunks hold a divisor of chunk_rows rows, so that appends of chunk_rows rows fill whole
  // chunks, which can be encoded in parallel and written directly (direct_chunks.hpp).
  while (chunk_rows % chunk[0] != 0 && chunk[0] < total_rows) --chunk[0];
  Handle plist = create_plist(chunk, options.compress);
  dataset_ = Handle(check(H5Dcreate2(g.id(), name.c_str(), native_type<T>(), space.id(),
                                     H5P_DEFAULT, plist.id(), H5P_DEFAULT),
                          "cannot create dataset " + where(g.id(), name)));
  attach_dims(g, dataset_.id(), shape, dims);
  apply_options(dataset_.id(), options);
  set_attr_value<std::int64_t>(dataset_.id(), "rows_written", 0);
}

template <typename T>
RowWriter<T> RowWriter<T>::reopen(const Group& g, const std::string& name) {
  RowWriter w;
  w.dataset_ = open_dataset(g.id(), name);
  auto shape = shape_of(w.dataset_.id());
  w.total_rows_ = shape.at(0);
  w.row_shape_.assign(shape.begin() + 1, shape.end());
  w.rows_written_ =
      static_cast<std::uint64_t>(get_attr_number(w.dataset_.id(), "rows_written").value_or(0));
  return w;
}

template <typename T>
RowWriter<T> RowWriter<T>::reopen(const Group& g, const std::string& name,
                                  std::uint64_t rows_written) {
  auto w = reopen(g, name);
  if (rows_written > w.total_rows_)
    fail("cannot resume " + object_name(w.dataset_.id()) + " after row " +
         std::to_string(rows_written) + ": it has " + std::to_string(w.total_rows_) + " rows");
  w.rows_written_ = rows_written;
  set_attr_value<std::int64_t>(w.dataset_.id(), "rows_written",
                               static_cast<std::int64_t>(rows_written));
  return w;
}

template <typename T>
std::uint64_t RowWriter<T>::row_size() const {
  std::uint64_t n = 1;
  for (auto d : row_shape_) n *= d;
  return n;
}

template <typename T>
void RowWriter<T>::append(const T* rows, std::uint64_t n_rows) {
  if (n_rows == 0) return;
  if (rows_written_ + n_rows > total_rows_)
    fail("internal: appending past the end of " + object_name(dataset_.id()));
  Handle fspace(H5Dget_space(dataset_.id()));
  std::vector<hsize_t> start(row_shape_.size() + 1, 0), count(row_shape_.size() + 1);
  start[0] = rows_written_;
  count[0] = n_rows;
  for (size_t i = 0; i < row_shape_.size(); ++i) count[i + 1] = row_shape_[i];
  H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Handle mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  check_status(
      H5Dwrite(dataset_.id(), native_type<T>(), mspace.id(), fspace.id(), H5P_DEFAULT, rows),
      "cannot write to " + file_name(dataset_.id()) + ":" + object_name(dataset_.id()) +
          " (disk full?)");
  rows_written_ += n_rows;
  set_attr_value<std::int64_t>(dataset_.id(), "rows_written",
                               static_cast<std::int64_t>(rows_written_));
}

template class RowWriter<float>;
template class RowWriter<double>;
template class RowWriter<std::int64_t>;

bool exists(const File& f, const std::string& path) {
  return H5LTpath_valid(f.id(), path.c_str(), 1) > 0;
}

std::vector<std::uint64_t> dataset_shape(const File& f, const std::string& path) {
  Handle ds = open_dataset(f.id(), path);
  return shape_of(ds.id());
}

template <typename T>
Array<T> read_array(const File& f, const std::string& path) {
  Handle ds = open_dataset(f.id(), path);
  Array<T> a;
  a.shape = shape_of(ds.id());
  const std::uint64_t n = element_count(a.shape);
  Handle ftype(H5Dget_type(ds.id()));
  const auto cls = H5Tget_class(ftype.id());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    fail("HDF5 dataset " + f.path().string() + ":" + path + " is not numeric");
  check_fits(n, sizeof(T), "HDF5 dataset " + f.path().string() + ":" + path);
  a.data.resize(n);
  if (n > 0)
    check_status(H5Dread(ds.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data.data()),
                 "cannot read " + f.path().string() + ":" + path + " (corrupt or truncated?)");
  return a;
}

template <typename T>
Array<T> read_rows(const File& f, const std::string& path, std::uint64_t first,
                   std::uint64_t count) {
  Handle ds = open_dataset(f.id(), path);
  Array<T> a;
  auto shape = shape_of(ds.id());
  if (shape.empty() || first + count > shape[0])
    fail("rows " + std::to_string(first) + ".." + std::to_string(first + count) + " are outside " +
         f.path().string() + ":" + path);
  a.shape = shape;
  a.shape[0] = count;
  const std::uint64_t n = element_count(a.shape);
  check_fits(n, sizeof(T), "HDF5 dataset " + f.path().string() + ":" + path);
  a.data.resize(n);
  if (n == 0) return a;
  Handle fspace(H5Dget_space(ds.id()));
  std::vector<hsize_t> start(shape.size(), 0), cnt(a.shape.begin(), a.shape.end());
  start[0] = first;
  H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  Handle mspace(H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr));
  check_status(
      H5Dread(ds.id(), native_type<T>(), mspace.id(), fspace.id(), H5P_DEFAULT, a.data.data()),
      "cannot read " + f.path().string() + ":" + path + " (corrupt or truncated?)");
  return a;
}

template <typename T>
void read_rows_into(const File& f, const std::string& path, std::uint64_t first,
                    std::uint64_t count, T* out) {
  Handle ds = open_dataset(f.id(), path);
  const auto shape = shape_of(ds.id());
  if (shape.empty() || first + count > shape[0])
    fail("rows " + std::to_string(first) + ".." + std::to_string(first + count) + " are outside " +
         f.path().string() + ":" + path);
  std::vector<hsize_t> start(shape.size(), 0), cnt(shape.begin(), shape.end());
  start[0] = first;
  cnt[0] = count;
  if (count == 0) return;
  Handle fspace(H5Dget_space(ds.id()));
  H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  Handle mspace(H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr));
  check_status(H5Dread(ds.id(), native_type<T>(), mspace.id(), fspace.id(), H5P_DEFAULT, out),
               "cannot read " + f.path().string() + ":" + path + " (corrupt or truncated?)");
}
template void read_rows_into<float>(const File&, const std::string&, std::uint64_t, std::uint64_t,
                                    float*);

#define LRM_INSTANTIATE_READ(T)                                     \
  template Array<T> read_array<T>(const File&, const std::string&); \
  template Array<T> read_rows<T>(const File&, const std::string&, std::uint64_t, std::uint64_t);
LRM_INSTANTIATE_READ(float)
LRM_INSTANTIATE_READ(double)
LRM_INSTANTIATE_READ(std::int64_t)
LRM_INSTANTIATE_READ(std::int32_t)
LRM_INSTANTIATE_READ(std::uint8_t)
#undef LRM_INSTANTIATE_READ

std::vector<std::string> read_strings(const File& f, const std::string& path) {
  Handle ds = open_dataset(f.id(), path);
  Handle ftype(H5Dget_type(ds.id()));
  const auto shape = shape_of(ds.id());
  const std::uint64_t n = element_count(shape);
  const std::string what = "HDF5 dataset " + f.path().string() + ":" + path;
  if (H5Tget_class(ftype.id()) != H5T_STRING) {
    // Numeric labels are read as their decimal text.
    auto a = read_array<double>(f, path);
    std::vector<std::string> out;
    out.reserve(a.data.size());
    for (double v : a.data) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      out.emplace_back(buf);
    }
    return out;
  }
  check_fits(n, sizeof(std::string) + 16, what);
  std::vector<std::string> out;
  out.reserve(n);
  if (H5Tis_variable_str(ftype.id()) > 0) {
    if (!reads_directly(ds.id())) return checked_strings(f.path(), object_name(ds.id()));
    Handle type = string_type();
    std::vector<char*> ptrs(n, nullptr);
    if (n > 0)
      check_status(H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
                   "cannot read strings " + f.path().string() + ":" + path);
    // HDF5 allocates each string with its terminator; a string longer than any label is corrupt.
    bool too_long = false;
    for (char* p : ptrs) {
      const size_t len = p ? strnlen(p, kMaxString + 1) : 0;
      too_long = too_long || len > kMaxString;
      out.emplace_back(p ? p : "", std::min(len, kMaxString));
    }
    Handle space(H5Dget_space(ds.id()));
    if (n > 0) H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, ptrs.data());
    if (too_long)
      fail(what + " holds a string longer than " + std::to_string(kMaxString) +
           " bytes (corrupt file?)");
    return out;
  }
  const size_t width = H5Tget_size(ftype.id());
  if (width == 0 || width > kMaxString)
    fail(what + " has strings " + std::to_string(width) + " bytes wide (corrupt file?)");
  check_fits(n, width, what);
  std::vector<char> buf(width * n);
  if (n > 0)
    check_status(H5Dread(ds.id(), ftype.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()),
                 "cannot read strings " + f.path().string() + ":" + path);
  for (std::uint64_t i = 0; i < n; ++i) {
    const char* p = buf.data() + i * width;
    out.emplace_back(p, strnlen(p, width));
  }
  return out;
}

namespace {

struct LinkSearch {
  H5O_info_t target;
  std::string name;
};

herr_t find_link_to(hid_t group, const char* name, const H5L_info_t* link, void* data) {
  auto* search = static_cast<LinkSearch*>(data);
  H5O_info_t info;
  if (link->type != H5L_TYPE_HARD ||
      H5Oget_info_by_name2(group, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return 0;
  if (info.fileno != search->target.fileno || info.addr != search->target.addr) return 0;
  search->name = name;
  return 1;
}

// The name of a dimension scale: its link in the dataset's group or the nearest ancestor that
// holds one (where netCDF and the suite put scales). HDF5's own name of an object opened by
// reference comes from a search of the whole file, once per dimension, which is quadratic in a
// file of thousands of arrays, so it is only the last resort.
std::string scale_name(const File& f, const std::string& path, hid_t scale) {
  LinkSearch search;
  if (H5Oget_info2(scale, &search.target, H5O_INFO_BASIC) >= 0) {
    std::string group = path.empty() || path[0] != '/' ? "/" + path : path;
    while (search.name.empty() && group.size() > 1) {
      group.erase(std::max<std::size_t>(group.find_last_of('/'), 1));
      Handle g(H5Gopen2(f.id(), group.c_str(), H5P_DEFAULT));
      if (g.valid())
        H5Literate(g.id(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, find_link_to, &search);
    }
  }
  if (!search.name.empty()) return search.name;
  const std::string full = object_name(scale);
  return full.substr(full.find_last_of('/') + 1);
}

}  // namespace

// The scale attached to each dimension, read from the DIMENSION_LIST attribute (a variable-length
// list of object references per dimension) after checking its type, its length and that each
// reference is a one-dimensional dataset of the dimension's length inside the file.
std::vector<std::string> dimension_names(const File& f, const std::string& path) {
  Handle ds = open_dataset(f.id(), path);
  const auto shape = shape_of(ds.id());
  std::vector<std::string> names(shape.size());
  if (shape.empty() || H5Aexists(ds.id(), "DIMENSION_LIST") <= 0) return names;
  if (!reads_directly(ds.id())) return checked_dimension_names(f.path(), object_name(ds.id()));
  const std::string what =
      "HDF5 dataset " + f.path().string() + ":" + path + ": its list of dimension scales";
  Handle attr(check(H5Aopen(ds.id(), "DIMENSION_LIST", H5P_DEFAULT), "cannot open " + what));
  Handle type(H5Aget_type(attr.id()));
  Handle space(H5Aget_space(attr.id()));
  const bool is_list = H5Tget_class(type.id()) == H5T_VLEN;
  Handle base(is_list ? H5Tget_super(type.id()) : H5I_INVALID_HID);
  if (!is_list || !base.valid() || H5Tequal(base.id(), H5T_STD_REF_OBJ) <= 0 ||
      H5Sget_simple_extent_ndims(space.id()) != 1 ||
      H5Sget_simple_extent_npoints(space.id()) != static_cast<hssize_t>(shape.size()))
    fail(what + " is not one list of references per dimension (corrupt file?)");
  Handle mem(H5Tvlen_create(H5T_STD_REF_OBJ));
  std::vector<hvl_t> lists(shape.size());
  check_status(H5Aread(attr.id(), mem.id(), lists.data()), "cannot read " + what);
  hsize_t file_size = 0;
  H5Fget_filesize(f.id(), &file_size);
  std::string bad;
  for (size_t i = 0; i < shape.size() && bad.empty(); ++i) {
    if (lists[i].len == 0 || lists[i].p == nullptr) continue;
    hobj_ref_t ref = static_cast<const hobj_ref_t*>(lists[i].p)[0];
    H5O_type_t obj_type = H5O_TYPE_UNKNOWN;
    if (ref >= file_size || H5Rget_obj_type2(ds.id(), H5R_OBJECT, &ref, &obj_type) < 0 ||
        obj_type != H5O_TYPE_DATASET) {
      bad = "dimension " + std::to_string(i) + " refers to no dataset";
      continue;
    }
    Handle scale(H5Rdereference2(ds.id(), H5P_DEFAULT, H5R_OBJECT, &ref));
    if (!scale.valid()) {
      bad = "dimension " + std::to_string(i) + " refers to no dataset";
      continue;
    }
    const auto scale_shape = shape_of(scale.id());
    names[i] = scale_name(f, path, scale.id());
    if (scale_shape.size() != 1 || scale_shape[0] != shape[i])
      bad = "the scale " + names[i] + " of dimension " + std::to_string(i) +
            " does not have its length " + std::to_string(shape[i]);
  }
  H5Dvlen_reclaim(mem.id(), space.id(), H5P_DEFAULT, lists.data());
  if (!bad.empty()) fail(what + ": " + bad + " (corrupt file?)");
  return names;
}

std::optional<std::string> dataset_attr_string(const File& f, const std::string& path,
                                               const std::string& attr) {
  Handle ds = open_dataset(f.id(), path);
  return get_attr_string(ds.id(), attr);
}

bool is_string_dataset(const File& f, const std::string& path) {
  Handle ds = open_dataset(f.id(), path);
  Handle t(H5Dget_type(ds.id()));
  return H5Tget_class(t.id()) == H5T_STRING;
}

bool is_uint8_dataset(const File& f, const std::string& path) {
  Handle ds = open_dataset(f.id(), path);
  Handle t(H5Dget_type(ds.id()));
  return H5Tget_class(t.id()) == H5T_INTEGER && H5Tget_size(t.id()) == 1 &&
         H5Tget_sign(t.id()) == H5T_SGN_NONE;
}

std::pair<std::filesystem::path, std::string> split_dataset_spec(const std::string& spec,
                                                                 const std::string& fallback) {
  const auto pos = spec.find(":/");
  if (pos == std::string::npos) return {spec, fallback};
  return {spec.substr(0, pos), spec.substr(pos + 1)};
}

}  // namespace lrm::h5
