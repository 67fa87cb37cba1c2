#pragma once
// Reads blocks of a 2-D float32 dataset. Where its chunks are deflate-compressed (optionally
// shuffled first), the compressed chunks are read whole with H5Dread_chunk and decoded with
// libdeflate on all threads: HDF5 decodes on one thread at a time, and inflating is most of the
// cost of reading compressed activations. Any other layout or filter (uncompressed, contiguous,
// Fletcher-32, szip, big-endian floats, unwritten chunks) is read through HDF5's own H5Dread, so
// files written by other tools read the same.
#include <cstdint>
#include <string>

#include "io/h5.hpp"

namespace lrm::io {

class ChunkReader {
 public:
  // The dataset at `path` of `file`; an InternalError when it cannot be opened or is not 2-D.
  ChunkReader(const h5::File& file, const std::string& path);

  std::uint64_t rows() const { return rows_; }
  std::uint64_t cols() const { return cols_; }
  // Rows per storage chunk (1 for unchunked datasets).
  std::uint64_t chunk_rows() const { return chunk_[0]; }
  // True when reads decode the chunks here rather than through H5Dread.
  bool decodes_chunks() const { return decode_; }

  // Rows [row, row + n_rows) x columns [col, col + n_cols) into `out` (n_rows x n_cols, row-major).
  // Decodes on threads() threads, or on the calling thread inside a parallel region. Safe to call
  // from several threads at once (HDF5's part runs under one process-wide lock).
  void read(std::uint64_t row, std::uint64_t n_rows, std::uint64_t col, std::uint64_t n_cols,
            float* out) const;

 private:
  struct Block {
    std::uint64_t row, n_rows, col, n_cols;
  };
  void read_through_hdf5(const Block& b, float* out) const;
  // False when a chunk of the block was never written (HDF5 then supplies the fill value).
  bool decode_chunks(const Block& b, float* out) const;

  h5::Handle dataset_;
  std::string where_;  // file:path, for errors
  std::uint64_t rows_ = 0, cols_ = 0, chunk_[2] = {1, 1};
  bool decode_ = false, shuffled_ = false;
};

}  // namespace lrm::io
