#pragma once
// The suite's one seam to MPI. `mpirun -n N lrm <command>` starts N ranks of the same binary; each
// does its share of the work and rank 0 writes the one result file through the usual `.partial` +
// rename writers (ranks never write the same HDF5 file: the suite links Debian's serial HDF5).
//
// MPI is initialised only when the process was started by mpirun (its environment names a world
// size), so a plain `lrm ...` runs exactly as without MPI, and the Python module, which links the
// same core but never calls init(), always sees rank 0 of 1. A build without MPI (CMake found
// none) compiles the same functions for one rank. Every collective below must be called by every
// rank in the same order; with size() == 1 each is a no-op or returns its input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lrm::mpi {

// True when the environment says mpirun/srun started this process (OMPI_COMM_WORLD_SIZE, PMI_SIZE
// or PMIX_RANK), whether or not this build has MPI.
bool launched_by_mpirun();
// MPI_Init when launched by mpirun and built with MPI; otherwise nothing. finalize() undoes it.
void init(int& argc, char**& argv);
void finalize();
// Whether this build was compiled against MPI.
bool built_with_mpi();

int rank();
int size();
bool active();  // size() > 1

void barrier();

// Sums over ranks, on every rank.
double allreduce_sum(double value);
void allreduce_sum(std::vector<double>& values);
// Every rank's bytes, in rank order, on every rank.
std::vector<std::string> allgather(const std::string& bytes);
// Every rank's bytes in rank order on rank 0; an empty vector elsewhere.
std::vector<std::string> gather(const std::string& bytes);
// The ranks' arrays concatenated in rank order on rank 0 (lengths may differ); empty elsewhere.
std::vector<double> gather(const std::vector<double>& values);
// Root's text on every rank.
std::string broadcast(const std::string& text, int root = 0);

// Rank r's contiguous share [begin, end) of n items: the first n % size ranks get one more.
struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};
Range share(std::size_t n, int rank, int size);
inline Range share(std::size_t n) { return share(n, rank(), size()); }

// Prints `line` (one line, newline added; nothing when empty) on stderr and ends the whole job with
// exit_code (MPI_Abort; mpirun exits with it). Without an active job it is std::exit(exit_code).
[[noreturn]] void abort_job(int exit_code, const std::string& line);
// For a failure every rank meets alike (a bad option): ranks other than 0 wait for rank 0's
// abort_job to end the job, so the line is printed once.
[[noreturn]] void abort_job_quietly_after_rank0(int exit_code);

// Compares a checksum of `text` (options, input paths and sizes) across ranks; a mismatch is an
// InputError on rank 0 naming `what` and the ranks that differ (other ranks wait for its abort).
void check_same_everywhere(const std::string& what, const std::string& text);
// The text check_same_everywhere compares for a command line: its arguments and, for each that
// names an existing file, its size and a digest of its first and last 64 KiB (a folder: its
// number of entries).
std::string describe_inputs(int argc, char** argv);

// 64-bit FNV-1a of bytes.
std::uint64_t checksum(const std::string& bytes);

// HDF5 refuses to open a file another process has open when the file system has no working
// locks; appends the fix to an error message that says a file is locked.
std::string with_lock_hint(const std::string& message);

}  // namespace lrm::mpi
