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
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <type_traits>
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

// Rank r's contiguous share [begin, end) of n items: the first n % size ranks get one more.
struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};
Range share(std::size_t n, int rank, int size);
inline Range share(std::size_t n) { return share(n, rank(), size()); }

// MPI counts are int: the messages below travel in pieces of at most `piece` bytes (max_piece
// unless a test asks for smaller), so that they may have any length.
constexpr std::size_t max_piece = std::size_t{1} << 30;
// [0, n) cut into consecutive ranges of at most `piece` (1 to INT_MAX) items; none for n == 0.
std::vector<Range> pieces(std::size_t n, std::size_t piece);

// Sums over ranks, on every rank.
double allreduce_sum(double value);
void allreduce_sum(std::vector<double>& values, std::size_t piece = max_piece);
// Every rank's bytes, in rank order, on every rank.
std::vector<std::string> allgather(const std::string& bytes, std::size_t piece = max_piece);
// Every rank's bytes in rank order on rank 0; an empty vector elsewhere.
std::vector<std::string> gather(const std::string& bytes, std::size_t piece = max_piece);
// The ranks' arrays concatenated in rank order on rank 0 (lengths may differ); empty elsewhere.
std::vector<double> gather(const std::vector<double>& values);
// Root's text on every rank.
std::string broadcast(const std::string& text, int root = 0, std::size_t piece = max_piece);

// Items 0..n-1, item i computed by compute(i) on rank i % size() (round robin, so that layers of
// different sizes spread), as bytes; rank 0 gets all n in order, other ranks an empty vector.
// With one rank it is compute(0..n-1) in order. `done` is called after each item this rank
// computed (a progress bar).
std::vector<std::string> compute_shared(std::size_t n,
                                        const std::function<std::string(std::size_t)>& compute,
                                        const std::function<void()>& done = {});

// A message of plain values, strings and arrays of plain values, read back in the same order.
class Packer {
 public:
  template <typename T>
  Packer& put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
    return *this;
  }
  Packer& put(const std::string& text) {
    put(static_cast<std::uint64_t>(text.size()));
    bytes_ += text;
    return *this;
  }
  template <typename T>
  Packer& put_array(const T* data, std::size_t n) {
    static_assert(std::is_trivially_copyable_v<T>);
    put(static_cast<std::uint64_t>(n));
    bytes_.append(reinterpret_cast<const char*>(data), n * sizeof(T));
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class Unpacker {
 public:
  explicit Unpacker(const std::string& bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    return std::string(take(n), n);
  }
  // An array written by put_array: resize(n) makes room for its n values and returns where.
  template <typename T, typename Resize>
  void get_array(Resize resize) {
    const auto n = get<std::uint64_t>();
    T* out = resize(n);
    if (n) std::memcpy(out, take(n * sizeof(T)), n * sizeof(T));
  }

 private:
  const char* take(std::size_t n);
  const std::string& bytes_;
  std::size_t at_ = 0;
};

// A scratch path for a rank other than 0 to write what rank 0 writes to the real output (commands
// that do not split their work compute it on every rank); in the temporary folder, unique per
// process.
std::filesystem::path scratch_path(const std::string& stem);

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
