#pragma once
// Gram matrices (every stimulus pair's feature dot product) of a stimulus x feature matrix streamed
// from an activation file in blocks of stimuli, so memory is bounded by a budget and not by the
// layer: one block of rows stays in memory while the rows after it stream past in small batches,
// and each pair of blocks is multiplied feature chunk by feature chunk. The feature chunks are
// fixed (not set by the budget) and summed in double in the same order whatever the blocks, so a
// result does not depend on the memory it was computed in. The RDMs and the kernel form of ridge
// regression are built on it.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "io/activation_file.hpp"

namespace lrm::compare {

// Rows of a stimulus x feature matrix, read in blocks.
class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual Eigen::Index rows() const = 0;
  virtual Eigen::Index cols() const = 0;
  // Rows [first, first + count) into `out` (count x cols(), row-major).
  virtual void read(Eigen::Index first, Eigen::Index count, float* out) const = 0;
  // Rows [first, first + count) where they lie, if in memory and the Gram may overwrite them
  // (sparing a copy); nullptr otherwise.
  virtual float* rows_in_place(Eigen::Index /*first*/, Eigen::Index /*count*/) const {
    return nullptr;
  }
  // The name of row i in errors (a file's stimulus row, say).
  virtual std::string row_name(Eigen::Index i) const { return "stimulus row " + std::to_string(i); }
};

// Chosen rows of an activation file's pass. They are read in the file's order (runs of stored rows
// decode each chunk once); rows() counts them and row i is the i-th chosen row in that order:
// selection_order() puts a Gram over them back into the order they were chosen in.
class FileRows : public RowSource {
 public:
  FileRows(const io::ActivationFile& file, const io::LayerPass& lp,
           const std::vector<Eigen::Index>& chosen);
  Eigen::Index rows() const override { return static_cast<Eigen::Index>(stored_.size()); }
  Eigen::Index cols() const override { return cols_; }
  void read(Eigen::Index first, Eigen::Index count, float* out) const override;
  std::string row_name(Eigen::Index i) const override;
  // The Gram of the rows in file order rearranged into the chosen order.
  Eigen::MatrixXd selection_order(const Eigen::MatrixXd& gram) const;

 private:
  io::ChunkReader reader_;
  std::string what_;
  Eigen::Index cols_ = 0;
  std::vector<Eigen::Index> stored_;    // stored rows, ascending
  std::vector<Eigen::Index> position_;  // position_[k]: where the k-th chosen row is in stored_
};

// A row-major matrix in memory as a RowSource. Given as mutable, the Gram consumes it (centres
// and scales its rows in place for correlations) rather than copying it.
class MatrixRows : public RowSource {
 public:
  MatrixRows(float* data, Eigen::Index rows, Eigen::Index cols)
      : data_(data), mutable_(data), rows_(rows), cols_(cols) {}
  // Read-only: rows are copied (the shifted Gram never changes them).
  MatrixRows(const float* data, Eigen::Index rows, Eigen::Index cols)
      : data_(data), rows_(rows), cols_(cols) {}
  Eigen::Index rows() const override { return rows_; }
  Eigen::Index cols() const override { return cols_; }
  void read(Eigen::Index first, Eigen::Index count, float* out) const override;
  float* rows_in_place(Eigen::Index first, Eigen::Index) const override {
    return mutable_ ? mutable_ + first * cols_ : nullptr;
  }

 private:
  const float* data_;
  float* mutable_ = nullptr;
  Eigen::Index rows_, cols_;
};

enum class GramKind {
  // Rows centred and scaled to unit norm (correlations): single-precision products over each
  // feature chunk (BLAS ssyrk/sgemm), summed in double. A constant row is an InputError.
  correlation,
  // (x_i - c) . (x_j - c) in double, c the mean of the first (up to 64) rows: any shift c cancels
  // from distances and from centred kernels, and one near the mean keeps their precision.
  shifted,
};

// Bytes the Gram of n rows of p features needs beyond the Gram itself for one block of `rows`
// (used to size blocks and to refuse budgets too small for one).
std::int64_t gram_block_bytes(Eigen::Index rows, Eigen::Index p, GramKind kind);

// The Gram of every row pair (n x n, double), with at most `memory` bytes of rows in memory
// (the n x n result and `reserved` bytes the caller keeps counted against it). A budget too small
// for the result and two rows is a SettingError of "memory" saying how much one block needs.
// `what` names the input in errors. Honours Ctrl-C between batches.
Eigen::MatrixXd streamed_gram(const RowSource& source, GramKind kind, std::int64_t memory,
                              const std::string& what, std::int64_t reserved = 0);

// This process's resident memory now (what a budget for a whole command must leave room for).
std::int64_t resident_bytes();
// The budget's default: a quarter of the machine's memory.
std::int64_t default_memory_budget();
// "4G", "512M", "100k" or plain bytes; a SettingError of "memory" otherwise or when below 1 MiB.
std::int64_t parse_memory(const std::string& text);

}  // namespace lrm::compare
