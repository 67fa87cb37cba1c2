#pragma once
// A thin RAII layer over the HDF5 C API: files, groups, typed arrays with named dimensions
// (HDF5 dimension scales, the netCDF-4 convention that h5py, h5netcdf and xarray read),
// string and numeric attributes, and row-appendable chunked, compressed datasets.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lrm::h5 {

// HDF5 (thread-safe build) prints its error stack per thread unless told not to; every thread
// that calls HDF5 calls this first, and errors surface as exceptions only.
void silence_errors_on_this_thread();

// Owns one HDF5 identifier and closes it with the right H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  ~Handle();
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void close();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Element types the store writes and reads; reads convert from whatever is stored.
template <typename T>
hid_t native_type();

template <typename T>
struct Array {
  std::vector<std::uint64_t> shape;
  std::vector<T> data;  // C order
  std::uint64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  std::uint64_t row_size() const;
};

class Group;

class File {
 public:
  enum class Mode { read, read_write, create_truncate };
  File() = default;
  File(const std::filesystem::path& path, Mode mode);
  Group root() const;
  hid_t id() const { return handle_.id(); }
  const std::filesystem::path& path() const { return path_; }
  void flush() const;
  void close() { handle_.close(); }

 private:
  Handle handle_;
  std::filesystem::path path_;
};

class Group {
 public:
  Group() = default;
  Group(Handle h, std::string path) : handle_(std::move(h)), path_(std::move(path)) {}
  hid_t id() const { return handle_.id(); }
  const std::string& path() const { return path_; }

  bool has(const std::string& name) const;  // a link (group or dataset) by relative path
  bool has_group(const std::string& name) const;
  bool has_dataset(const std::string& name) const;
  Group group(const std::string& name) const;          // must exist
  Group require_group(const std::string& name) const;  // creates intermediate groups
  std::vector<std::string> children() const;           // names in creation/alphabetical order
  void remove(const std::string& name) const;

  // Attributes on this group.
  void set_attr(const std::string& name, const std::string& value) const;
  void set_attr(const std::string& name, double value) const;
  void set_attr(const std::string& name, std::int64_t value) const;
  // A numeric array attribute of `shape` (values in C order; h5py reads a numpy array).
  void set_attr(const std::string& name, const std::vector<double>& values,
                const std::vector<std::uint64_t>& shape) const;
  void set_attr(const std::string& name, const std::vector<std::int64_t>& values,
                const std::vector<std::uint64_t>& shape) const;
  std::optional<std::string> attr_string(const std::string& name) const;
  std::optional<double> attr_number(const std::string& name) const;

 private:
  Handle handle_;
  std::string path_;
};

// Dimensions and coordinates. A dimension is a dimension-scale dataset in the group; a coordinate
// dimension holds values (stimulus ids, unit indices), a bare one only a length.
void write_dimension(const Group& g, const std::string& name, std::uint64_t length);
void write_coordinate(const Group& g, const std::string& dim,
                      const std::vector<std::string>& values);
void write_coordinate(const Group& g, const std::string& dim,
                      const std::vector<std::int64_t>& values);
void write_coordinate(const Group& g, const std::string& dim, const std::vector<double>& values);
// An auxiliary coordinate: a 1-D variable along an existing dimension (e.g. category per stimulus).
// Arrays list it in their `coordinates` attribute so xarray shows it as a coordinate.
void write_aux_coordinate(const Group& g, const std::string& name, const std::string& dim,
                          const std::vector<std::string>& values);
void write_aux_coordinate(const Group& g, const std::string& name, const std::string& dim,
                          const std::vector<std::int64_t>& values);

struct ArrayOptions {
  std::vector<std::string> coordinates;  // auxiliary coordinates to list on the array
  bool compress = true;
  std::vector<std::pair<std::string, std::string>> attrs;
};

// Writes a whole array whose dimensions are named; missing dimensions are created bare.
template <typename T>
void write_array(const Group& g, const std::string& name, const T* data,
                 const std::vector<std::uint64_t>& shape, const std::vector<std::string>& dims,
                 const ArrayOptions& options = {});
template <typename T>
void write_array(const Group& g, const std::string& name, const std::vector<T>& data,
                 const std::vector<std::uint64_t>& shape, const std::vector<std::string>& dims,
                 const ArrayOptions& options = {}) {
  write_array(g, name, data.data(), shape, dims, options);
}
void write_strings(const Group& g, const std::string& name, const std::vector<std::string>& values,
                   const std::string& dim);
void write_scalar(const Group& g, const std::string& name, double value);

// A dataset grown along its first dimension batch by batch (chunked, compressed). The first
// dimension's scale is written when the full length is known (finish), so readers see labelled
// arrays; `rows_written` is kept as an attribute so an interrupted run can resume.
template <typename T>
class RowWriter {
 public:
  RowWriter(const Group& g, const std::string& name, std::vector<std::uint64_t> row_shape,
            std::uint64_t total_rows, std::uint64_t chunk_rows,
            const std::vector<std::string>& dims, const ArrayOptions& options = {});
  // Reopens a dataset written earlier, to continue after its last complete batch.
  static RowWriter reopen(const Group& g, const std::string& name);
  // The same, continuing after `rows_written` rows (e.g. the last batch known to be flushed).
  static RowWriter reopen(const Group& g, const std::string& name, std::uint64_t rows_written);
  void append(const T* rows, std::uint64_t n_rows);
  std::uint64_t rows_written() const { return rows_written_; }
  std::uint64_t row_size() const;

 private:
  RowWriter() = default;
  Handle dataset_;
  std::vector<std::uint64_t> row_shape_;
  std::uint64_t total_rows_ = 0, rows_written_ = 0;
};

// Reading.
bool exists(const File& f, const std::string& path);
std::vector<std::uint64_t> dataset_shape(const File& f, const std::string& path);
template <typename T>
Array<T> read_array(const File& f, const std::string& path);
// Reads rows [first, first + count) of a dataset along its first dimension.
template <typename T>
Array<T> read_rows(const File& f, const std::string& path, std::uint64_t first,
                   std::uint64_t count);
// The same rows into a caller's buffer of count × row-size elements, so a loop over batches
// reuses one buffer.
template <typename T>
void read_rows_into(const File& f, const std::string& path, std::uint64_t first,
                    std::uint64_t count, T* out);
std::vector<std::string> read_strings(const File& f, const std::string& path);
// Names of the dimension scales attached to each dimension of a dataset ("" where none).
std::vector<std::string> dimension_names(const File& f, const std::string& path);
std::optional<std::string> dataset_attr_string(const File& f, const std::string& path,
                                               const std::string& attr);
bool is_string_dataset(const File& f, const std::string& path);
bool is_uint8_dataset(const File& f, const std::string& path);

// Splits "file.h5:/group/data" into file and dataset path (the path defaults to `fallback`).
std::pair<std::filesystem::path, std::string> split_dataset_spec(const std::string& spec,
                                                                 const std::string& fallback = "");

}  // namespace lrm::h5
