#include "io/direct_chunks.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "common/error.hpp"

namespace lrm::h5 {
namespace {

// The filter pipeline the suite's compressed datasets use (see create_plist in h5.cpp).
bool shuffle_then_deflate(hid_t plist) {
  if (H5Pget_nfilters(plist) != 2) return false;
  unsigned flags = 0, values[8];
  std::size_t n_values = 8;
  char name[64];
  unsigned config = 0;
  const auto first =
      H5Pget_filter2(plist, 0, &flags, &n_values, values, sizeof name, name, &config);
  n_values = 8;
  const auto second =
      H5Pget_filter2(plist, 1, &flags, &n_values, values, sizeof name, name, &config);
  return first == H5Z_FILTER_SHUFFLE && second == H5Z_FILTER_DEFLATE;
}

std::string describe(const Group& g, const std::string& name) {
  const ssize_t n = H5Fget_name(g.id(), nullptr, 0);
  std::string file(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) H5Fget_name(g.id(), file.data(), file.size() + 1);
  return file + ":" + g.path() + (g.path() == "/" ? "" : "/") + name;
}

}  // namespace

ChunkEncoder::ChunkEncoder() : compressor_(libdeflate_alloc_compressor(1)) {
  if (!compressor_) throw std::bad_alloc();
}

ChunkEncoder::~ChunkEncoder() { libdeflate_free_compressor(compressor_); }

std::vector<unsigned char> ChunkEncoder::encode(const void* block, std::uint64_t rows,
                                                std::uint64_t cols, std::uint64_t stride,
                                                std::size_t elem_size, std::uint64_t chunk_rows,
                                                std::uint64_t chunk_cols) {
  // HDF5's shuffle: byte j of element i goes to j × elements + i, over the whole (padded) chunk.
  const std::size_t elements = chunk_rows * chunk_cols, bytes = elements * elem_size;
  shuffled_.resize(bytes);
  if (rows < chunk_rows || cols < chunk_cols) std::fill(shuffled_.begin(), shuffled_.end(), 0);
  const auto* in = static_cast<const unsigned char*>(block);
  for (std::uint64_t r = 0; r < rows; ++r) {
    const unsigned char* row = in + r * stride * elem_size;
    const std::size_t base = r * chunk_cols;
    for (std::uint64_t c = 0; c < cols; ++c)
      for (std::size_t j = 0; j < elem_size; ++j)
        shuffled_[j * elements + base + c] = row[c * elem_size + j];
  }
  // HDF5's deflate filter stores a zlib stream (header, deflate data, Adler-32).
  compressed_.resize(libdeflate_zlib_compress_bound(compressor_, bytes));
  const std::size_t n = libdeflate_zlib_compress(compressor_, shuffled_.data(), bytes,
                                                 compressed_.data(), compressed_.size());
  return {compressed_.begin(), compressed_.begin() + static_cast<std::ptrdiff_t>(n)};
}

std::optional<DirectRows> DirectRows::open(const Group& g, const std::string& name,
                                           std::uint64_t append_rows) {
  Handle dataset(H5Dopen2(g.id(), name.c_str(), H5P_DEFAULT));
  if (!dataset.valid()) throw InputError("cannot open dataset " + describe(g, name));
  Handle plist(H5Dget_create_plist(dataset.id()));
  Handle space(H5Dget_space(dataset.id()));
  Handle type(H5Dget_type(dataset.id()));
  hsize_t dims[2], chunk[2];
  if (H5Pget_layout(plist.id()) != H5D_CHUNKED || H5Sget_simple_extent_ndims(space.id()) != 2 ||
      H5Pget_chunk(plist.id(), 2, chunk) != 2 || !shuffle_then_deflate(plist.id()) ||
      H5Tequal(type.id(), H5T_NATIVE_FLOAT) <= 0)
    return std::nullopt;
  H5Sget_simple_extent_dims(space.id(), dims, nullptr);
  // Appends start at multiples of append_rows; each must start a chunk.
  if (append_rows % chunk[0] != 0 && chunk[0] < dims[0]) return std::nullopt;
  DirectRows d;
  d.dataset_ = std::move(dataset);
  d.total_rows_ = dims[0];
  d.units_ = dims[1];
  d.chunk_rows_ = chunk[0];
  d.chunk_units_ = chunk[1];
  d.where_ = describe(g, name);
  return d;
}

std::size_t DirectRows::chunk_count(std::uint64_t first, std::uint64_t count) const {
  if (first % chunk_rows_ != 0 || (count % chunk_rows_ != 0 && first + count != total_rows_) ||
      first + count > total_rows_)
    throw InputError("internal: rows " + std::to_string(first) + "+" + std::to_string(count) +
                     " do not fill whole chunks of " + where_);
  return static_cast<std::size_t>((count + chunk_rows_ - 1) / chunk_rows_ * column_chunks());
}

std::vector<unsigned char> DirectRows::encode(std::size_t k, const float* rows, std::uint64_t count,
                                              ChunkEncoder& encoder) const {
  const std::uint64_t r0 = k / column_chunks() * chunk_rows_;
  const std::uint64_t c0 = k % column_chunks() * chunk_units_;
  const std::uint64_t n_rows = std::min(chunk_rows_, count - r0);
  const std::uint64_t n_cols = std::min(chunk_units_, units_ - c0);
  return encoder.encode(rows + r0 * units_ + c0, n_rows, n_cols, units_, sizeof(float), chunk_rows_,
                        chunk_units_);
}

void DirectRows::write(std::size_t k, std::uint64_t first,
                       const std::vector<unsigned char>& chunk) {
  const hsize_t offset[2] = {first + k / column_chunks() * chunk_rows_,
                             k % column_chunks() * chunk_units_};
  if (H5Dwrite_chunk(dataset_.id(), H5P_DEFAULT, 0, offset, chunk.size(), chunk.data()) < 0)
    throw InputError("cannot write to " + where_ + " (disk full?)");
}

void DirectRows::finish_rows(std::uint64_t first, std::uint64_t count) {
  const std::int64_t rows = static_cast<std::int64_t>(first + count);
  Handle attr(H5Aopen(dataset_.id(), "rows_written", H5P_DEFAULT));
  if (!attr.valid() || H5Awrite(attr.id(), H5T_NATIVE_INT64, &rows) < 0)
    throw InputError("cannot write attribute rows_written of " + where_ + " (disk full?)");
}

}  // namespace lrm::h5
