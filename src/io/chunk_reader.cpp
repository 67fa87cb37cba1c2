#include "io/chunk_reader.hpp"

#include <libdeflate.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <vector>

#include "common/error.hpp"
#include "common/threads.hpp"

namespace lrm::io {
namespace {

// The pipelines decoded here: deflate alone, or shuffle (of 4-byte elements) then deflate.
// nullopt for any other.
std::optional<bool> shuffle_then_deflate(hid_t plist) {
  const int n = H5Pget_nfilters(plist);
  if (n < 1 || n > 2) return std::nullopt;
  H5Z_filter_t filter[2];
  unsigned shuffle_size = 0;
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0, values[8] = {}, config = 0;
    std::size_t n_values = 8;
    filter[i] = H5Pget_filter2(plist, static_cast<unsigned>(i), &flags, &n_values, values, 0,
                               nullptr, &config);
    if (filter[i] == H5Z_FILTER_SHUFFLE) shuffle_size = n_values > 0 ? values[0] : 0;
  }
  if (n == 1 && filter[0] == H5Z_FILTER_DEFLATE) return false;
  if (n == 2 && filter[0] == H5Z_FILTER_SHUFFLE && filter[1] == H5Z_FILTER_DEFLATE &&
      shuffle_size == sizeof(float))
    return true;
  return std::nullopt;
}

// One thread's decompressor and buffers.
struct Decoder {
  Decoder() : inflater(libdeflate_alloc_decompressor()) {
    if (!inflater) throw std::bad_alloc();
  }
  ~Decoder() { libdeflate_free_decompressor(inflater); }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  libdeflate_decompressor* inflater;
  std::vector<unsigned char> raw, inflated;
};

// Copies the part [r_lo, r_hi) x [c_lo, c_hi) of a decoded chunk (rows x cols elements, origin
// r0, c0) into `out`, the block with origin row, col and n_cols columns. A shuffled chunk holds
// byte j of element i at j x elements + i (HDF5's shuffle filter).
void copy_part(const unsigned char* chunk, bool shuffled, std::uint64_t cols,
               std::uint64_t elements, std::uint64_t r0, std::uint64_t c0, std::uint64_t r_lo,
               std::uint64_t r_hi, std::uint64_t c_lo, std::uint64_t c_hi, std::uint64_t row,
               std::uint64_t col, std::uint64_t n_cols, float* out) {
  for (std::uint64_t r = r_lo; r < r_hi; ++r) {
    auto* dst = reinterpret_cast<unsigned char*>(out + (r - row) * n_cols + (c_lo - col));
    const std::uint64_t first = (r - r0) * cols + (c_lo - c0), n = c_hi - c_lo;
    if (!shuffled) {
      std::memcpy(dst, chunk + first * sizeof(float), n * sizeof(float));
      continue;
    }
    const unsigned char* b0 = chunk + first;
    const unsigned char *b1 = b0 + elements, *b2 = b1 + elements, *b3 = b2 + elements;
    std::uint64_t i = 0;
#if defined(__SSE2__)
    // 16 elements at a time: interleave bytes 0,1 and 2,3 into pairs, then the pairs.
    for (; i + 16 <= n; i += 16) {
      const auto load = [&](const unsigned char* b) {
        return _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
      };
      const __m128i x0 = load(b0), x1 = load(b1), x2 = load(b2), x3 = load(b3);
      const __m128i lo01 = _mm_unpacklo_epi8(x0, x1), hi01 = _mm_unpackhi_epi8(x0, x1);
      const __m128i lo23 = _mm_unpacklo_epi8(x2, x3), hi23 = _mm_unpackhi_epi8(x2, x3);
      auto* d = reinterpret_cast<__m128i*>(dst + 4 * i);
      _mm_storeu_si128(d, _mm_unpacklo_epi16(lo01, lo23));
      _mm_storeu_si128(d + 1, _mm_unpackhi_epi16(lo01, lo23));
      _mm_storeu_si128(d + 2, _mm_unpacklo_epi16(hi01, hi23));
      _mm_storeu_si128(d + 3, _mm_unpackhi_epi16(hi01, hi23));
    }
#endif
    for (; i < n; ++i) {
      dst[4 * i] = b0[i];
      dst[4 * i + 1] = b1[i];
      dst[4 * i + 2] = b2[i];
      dst[4 * i + 3] = b3[i];
    }
  }
}

// HDF5 is not thread-safe: every call it makes for reads that may run on several threads at once
// (concurrent reads of different rows, or the chunks of one read) holds this lock.
std::mutex& hdf5_lock() {
  static std::mutex m;
  return m;
}

}  // namespace

ChunkReader::ChunkReader(const h5::File& file, const std::string& path)
    : dataset_(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT)),
      where_(file.path().string() + ":" + path) {
  if (!dataset_.valid()) throw InternalError("cannot open " + where_);
  const h5::Handle space(H5Dget_space(dataset_.id()));
  hsize_t dims[2];
  if (H5Sget_simple_extent_ndims(space.id()) != 2 ||
      H5Sget_simple_extent_dims(space.id(), dims, nullptr) != 2)
    throw InternalError(where_ + " is not a 2-D dataset");
  rows_ = dims[0];
  cols_ = dims[1];
  const h5::Handle plist(H5Dget_create_plist(dataset_.id()));
  const h5::Handle type(H5Dget_type(dataset_.id()));
  hsize_t chunk[2];
  if (H5Pget_layout(plist.id()) != H5D_CHUNKED || H5Pget_chunk(plist.id(), 2, chunk) != 2) return;
  chunk_[0] = chunk[0];
  chunk_[1] = chunk[1];
  const auto shuffled = shuffle_then_deflate(plist.id());
  decode_ = shuffled && H5Tequal(type.id(), H5T_NATIVE_FLOAT) > 0;
  shuffled_ = shuffled.value_or(false);
}

void ChunkReader::read(std::uint64_t row, std::uint64_t n_rows, std::uint64_t col,
                       std::uint64_t n_cols, float* out) const {
  if (row + n_rows > rows_ || col + n_cols > cols_) throw InternalError("block outside " + where_);
  if (n_rows == 0 || n_cols == 0) return;
  const Block b{row, n_rows, col, n_cols};
  if (!decode_ || !decode_chunks(b, out)) read_through_hdf5(b, out);
}

void ChunkReader::read_through_hdf5(const Block& b, float* out) const {
  const std::lock_guard<std::mutex> lock(hdf5_lock());
  const h5::Handle file_space(H5Dget_space(dataset_.id()));
  const hsize_t start[2] = {b.row, b.col}, size[2] = {b.n_rows, b.n_cols};
  const h5::Handle memory_space(H5Screate_simple(2, size, nullptr));
  if (!file_space.valid() || !memory_space.valid() ||
      H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, size, nullptr) < 0 ||
      H5Dread(dataset_.id(), H5T_NATIVE_FLOAT, memory_space.id(), file_space.id(), H5P_DEFAULT,
              out) < 0)
    throw InputError("cannot read " + where_ + " (corrupt or truncated?)");
}

bool ChunkReader::decode_chunks(const Block& b, float* out) const {
  const std::uint64_t first_r = b.row / chunk_[0], end_r = (b.row + b.n_rows - 1) / chunk_[0] + 1;
  const std::uint64_t first_c = b.col / chunk_[1], end_c = (b.col + b.n_cols - 1) / chunk_[1] + 1;
  const std::uint64_t per_row = end_c - first_c;
  const auto n_chunks = static_cast<std::int64_t>((end_r - first_r) * per_row);
  const std::uint64_t elements = chunk_[0] * chunk_[1], bytes = elements * sizeof(float);
  // Filter k of the pipeline is skipped for a chunk whose mask has bit k set.
  const std::uint32_t deflate_bit = shuffled_ ? 2u : 1u;
  std::atomic<bool> unwritten{false}, failed{false};
  std::exception_ptr error;
#pragma omp parallel num_threads(static_cast <int>(std::min <std::int64_t>(threads(), n_chunks)))
  {
    // Kept by each thread across reads: fresh buffers for every batch cost a page fault per 4 KiB.
    thread_local Decoder d;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t k = 0; k < n_chunks; ++k) {
      if (unwritten || failed) continue;
      const std::uint64_t r0 = (first_r + k / per_row) * chunk_[0];
      const std::uint64_t c0 = (first_c + k % per_row) * chunk_[1];
      const hsize_t offset[2] = {r0, c0};
      std::uint32_t mask = 0;
      bool ok = true;
      {
        const std::lock_guard<std::mutex> lock(hdf5_lock());
        haddr_t address = HADDR_UNDEF;
        hsize_t size = 0;
        if (H5Dget_chunk_info_by_coord(dataset_.id(), offset, &mask, &address, &size) < 0 ||
            address == HADDR_UNDEF || size == 0) {
          unwritten = true;
          continue;
        }
        d.raw.resize(size);
        ok = H5Dread_chunk(dataset_.id(), H5P_DEFAULT, offset, &mask, d.raw.data()) >= 0;
      }
      const unsigned char* chunk = d.raw.data();
      if (ok && !(mask & deflate_bit)) {
        d.inflated.resize(bytes);
        std::size_t n = 0;
        ok = libdeflate_zlib_decompress(d.inflater, d.raw.data(), d.raw.size(), d.inflated.data(),
                                        bytes, &n) == LIBDEFLATE_SUCCESS &&
             n == bytes;
        chunk = d.inflated.data();
      } else if (ok) {
        ok = d.raw.size() == bytes;
      }
      if (!ok) {
#pragma omp critical(lrm_chunk_reader_error)
        if (!failed.exchange(true))
          error = std::make_exception_ptr(
              InputError("cannot decode the chunk at row " + std::to_string(r0) + ", column " +
                         std::to_string(c0) + " of " + where_ + " (corrupt or truncated?)"));
        continue;
      }
      copy_part(chunk, shuffled_ && !(mask & 1u), chunk_[1], elements, r0, c0, std::max(r0, b.row),
                std::min(r0 + chunk_[0], b.row + b.n_rows), std::max(c0, b.col),
                std::min(c0 + chunk_[1], b.col + b.n_cols), b.row, b.col, b.n_cols, out);
    }
  }
  if (error) std::rethrow_exception(error);
  return !unwritten;
}

}  // namespace lrm::io
