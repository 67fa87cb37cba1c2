#pragma once
// Writes whole chunks of a row-appendable 2-D dataset (rows × units, chunked, shuffle + deflate)
// with H5Dwrite_chunk, after encoding them as HDF5's own filters would. Encoding is most of the
// cost of writing activations and HDF5 runs on one thread at a time, so chunks are encoded on
// any number of threads and only the writing is serial. Any HDF5 reader decodes them as usual.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/h5.hpp"

struct libdeflate_compressor;

namespace lrm::h5 {

// Shuffle + deflate (zlib stream, level 1) of one chunk; one per thread (it keeps its buffers).
class ChunkEncoder {
 public:
  ChunkEncoder();
  ~ChunkEncoder();
  ChunkEncoder(const ChunkEncoder&) = delete;
  ChunkEncoder& operator=(const ChunkEncoder&) = delete;
  // Encodes the rows × cols block at `block` (row stride `stride` elements of `elem_size`
  // bytes) as a chunk of chunk_rows × chunk_cols, zero-padded where the block is smaller.
  std::vector<unsigned char> encode(const void* block, std::uint64_t rows, std::uint64_t cols,
                                    std::uint64_t stride, std::size_t elem_size,
                                    std::uint64_t chunk_rows, std::uint64_t chunk_cols);

 private:
  libdeflate_compressor* compressor_;
  std::vector<unsigned char> shuffled_, compressed_;
};

class DirectRows {
 public:
  // The dataset `name` in g, if it can take direct chunks: 2-D float32, chunked, filters exactly
  // shuffle then deflate, and appends of `append_rows` rows (from row 0 in steps of
  // append_rows) filling whole chunks. nullopt otherwise: the caller writes through HDF5.
  static std::optional<DirectRows> open(const Group& g, const std::string& name,
                                        std::uint64_t append_rows);
  // Number of chunks that rows [first, first + count) fill.
  std::size_t chunk_count(std::uint64_t first, std::uint64_t count) const;
  // Encodes chunk k of those rows, given as count × units floats. Thread-safe.
  std::vector<unsigned char> encode(std::size_t k, const float* rows, std::uint64_t count,
                                    ChunkEncoder& encoder) const;
  // Writes chunk k (as encode() made it); then, after every chunk of the rows, records them.
  void write(std::size_t k, std::uint64_t first, const std::vector<unsigned char>& chunk);
  void finish_rows(std::uint64_t first, std::uint64_t count);

 private:
  DirectRows() = default;
  Handle dataset_;
  std::uint64_t total_rows_ = 0, units_ = 0, chunk_rows_ = 0, chunk_units_ = 0;
  std::string where_;  // file:/path, for errors
  std::uint64_t column_chunks() const { return (units_ + chunk_units_ - 1) / chunk_units_; }
};

}  // namespace lrm::h5
