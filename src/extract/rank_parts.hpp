#pragma once
// An extraction split across MPI ranks (`mpirun -n N lrm extract`). Rank K computes a contiguous
// run of whole batches into its own part file `<out>.rank<K>.partial`: the full output's layout
// (every dataset has all the stimuli's rows, chunked and compressed as a single-process run does)
// with only its own rows written, so its chunks are the chunks of the joined file. When every
// part is complete, rank 0 joins them: part 0 becomes `<out>.partial`, the other parts'
// compressed chunks are copied into it unchanged (no decoding), and it is committed to `<out>`.
// A join that stopped leaves `<out>.partial` marked with the number of ranks (attribute mpi_ranks
// of /activations) beside the other parts; --resume makes it part 0 again and joins anew.
#include <cstdint>
#include <filesystem>
#include <string>

namespace lrm::extract {

// Rows [first, end) of the stimulus set.
struct RowRange {
  std::uint64_t first = 0, end = 0;
  std::uint64_t size() const { return end - first; }
};

// Rank `rank` of `ranks`' rows of n: a contiguous share of the batches of batch_rows rows, so that
// every rank starts at a chunk boundary (chunks hold a divisor of batch_rows rows).
RowRange rank_rows(std::uint64_t n, std::uint64_t batch_rows, int rank, int ranks);

// The path whose ResultFile (which adds ".partial") is rank `rank`'s part: <out>.rank<K>.
std::filesystem::path part_base(const std::filesystem::path& out, int rank);

// Joins the complete parts of `ranks` ranks into `out`, which then records the number of ranks
// (root attribute mpi_ranks), and deletes the parts. Every part must hold the rows
// rank_rows gives it and carry `signature`. Returns the seconds it took.
double join_parts(const std::filesystem::path& out, int ranks, std::uint64_t n,
                  std::uint64_t batch_rows, const std::string& signature);

// Deletes the parts `<out>.rank<K>.partial` of every rank, and those of higher ranks an earlier
// run with more ranks left.
void remove_parts(const std::filesystem::path& out);

}  // namespace lrm::extract
