#include "common/mpi.hpp"

#ifdef LRM_WITH_MPI
#include <mpi.h>
#endif

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/error.hpp"

namespace lrm::mpi {
namespace {

int world_rank = 0;
int world_size = 1;
[[maybe_unused]] bool initialised = false;  // only an MPI build initialises

#ifdef LRM_WITH_MPI
int count(const Range& piece) { return static_cast<int>(piece.size()); }

// gather's messages, the only point-to-point ones.
constexpr int gather_tag = 1;
#endif

}  // namespace

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
}

bool built_with_mpi() {
#ifdef LRM_WITH_MPI
  return true;
#else
  return false;
#endif
}

void init(int& argc, char**& argv) {
#ifdef LRM_WITH_MPI
  if (initialised || !launched_by_mpirun()) return;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  initialised = true;
#else
  (void)argc;
  (void)argv;
#endif
}

void finalize() {
#ifdef LRM_WITH_MPI
  if (initialised) MPI_Finalize();
  initialised = false;
#endif
}

int rank() { return world_rank; }
int size() { return world_size; }
bool active() { return world_size > 1; }

void barrier() {
#ifdef LRM_WITH_MPI
  if (active()) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

double allreduce_sum(double value) {
  std::vector<double> v{value};
  allreduce_sum(v);
  return v[0];
}

void allreduce_sum(std::vector<double>& values, std::size_t piece) {
#ifdef LRM_WITH_MPI
  if (active())
    for (const Range& r : pieces(values.size(), std::max(piece / sizeof(double), std::size_t{1})))
      MPI_Allreduce(MPI_IN_PLACE, values.data() + r.begin, count(r), MPI_DOUBLE, MPI_SUM,
                    MPI_COMM_WORLD);
#else
  (void)values;
  (void)piece;
#endif
}

std::vector<std::string> allgather(const std::string& bytes, std::size_t piece) {
  if (!active()) return {bytes};
  Packer all;
  for (const auto& part : gather(bytes, piece)) all.put(part);
  const std::string received = broadcast(all.bytes(), 0, piece);
  Unpacker u(received);
  std::vector<std::string> out(static_cast<std::size_t>(world_size));
  for (auto& part : out) part = u.get_string();
  return out;
}

std::vector<std::string> gather(const std::string& bytes, std::size_t piece) {
#ifdef LRM_WITH_MPI
  // Point to point, so that each rank's bytes land in their string with no int displacements.
  if (active()) {
    if (world_rank != 0) {
      std::uint64_t n = bytes.size();
      MPI_Send(&n, 1, MPI_UINT64_T, 0, gather_tag, MPI_COMM_WORLD);
      for (const Range& r : pieces(n, piece))
        MPI_Send(bytes.data() + r.begin, count(r), MPI_CHAR, 0, gather_tag, MPI_COMM_WORLD);
      return {};
    }
    std::vector<std::string> out{bytes};
    for (int from = 1; from < world_size; ++from) {
      std::uint64_t n = 0;
      MPI_Recv(&n, 1, MPI_UINT64_T, from, gather_tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      std::string& part = out.emplace_back(n, '\0');
      for (const Range& r : pieces(n, piece))
        MPI_Recv(part.data() + r.begin, count(r), MPI_CHAR, from, gather_tag, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    }
    return out;
  }
#else
  (void)piece;
#endif
  return {bytes};
}

std::vector<double> gather(const std::vector<double>& values) {
  if (!active()) return values;
  const auto parts = gather(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double)));
  std::vector<double> all;
  for (const auto& part : parts) {
    const size_t at = all.size();
    all.resize(at + part.size() / sizeof(double));
    std::memcpy(all.data() + at, part.data(), part.size());
  }
  return all;
}

std::vector<std::string> compute_shared(std::size_t n,
                                        const std::function<std::string(std::size_t)>& compute,
                                        const std::function<void()>& done) {
  Packer mine;
  for (std::size_t i = static_cast<std::size_t>(world_rank); i < n;
       i += static_cast<std::size_t>(world_size)) {
    mine.put(compute(i));
    if (done) done();
  }
  const auto parts = gather(mine.bytes());
  if (parts.empty()) return {};
  std::vector<Unpacker> readers(parts.begin(), parts.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(readers[i % static_cast<std::size_t>(world_size)].get_string());
  return out;
}

const char* Unpacker::take(std::size_t n) {
  if (at_ + n > bytes_.size()) throw InternalError("an MPI message ended early");
  const char* p = bytes_.data() + at_;
  at_ += n;
  return p;
}

std::filesystem::path scratch_path(const std::string& stem) {
  return std::filesystem::temp_directory_path() /
         ("lrm-" + stem + "-rank" + std::to_string(world_rank) + "-" + std::to_string(getpid()) +
          ".h5");
}

std::string broadcast(const std::string& text, int root, std::size_t piece) {
#ifdef LRM_WITH_MPI
  if (active()) {
    std::uint64_t n = text.size();
    MPI_Bcast(&n, 1, MPI_UINT64_T, root, MPI_COMM_WORLD);
    std::string out = world_rank == root ? text : std::string(n, '\0');
    for (const Range& r : pieces(n, piece))
      MPI_Bcast(out.data() + r.begin, count(r), MPI_CHAR, root, MPI_COMM_WORLD);
    return out;
  }
#else
  (void)root;
  (void)piece;
#endif
  return text;
}

Range share(std::size_t n, int rank, int size) {
  const std::size_t r = rank, s = size, base = n / s, extra = n % s;
  Range out;
  out.begin = r * base + std::min(r, extra);
  out.end = out.begin + base + (r < extra ? 1 : 0);
  return out;
}

std::vector<Range> pieces(std::size_t n, std::size_t piece) {
  if (piece == 0 || piece > static_cast<std::size_t>(INT_MAX))
    throw InternalError("an MPI message piece must hold 1 to INT_MAX items");
  std::vector<Range> out;
  for (std::size_t at = 0; at < n; at += piece) out.push_back({at, std::min(n, at + piece)});
  return out;
}

void abort_job(int exit_code, const std::string& line) {
  if (!line.empty()) std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
#ifdef LRM_WITH_MPI
  if (initialised) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
  std::exit(exit_code);
}

void abort_job_quietly_after_rank0(int exit_code) {
  // Rank 0 meets the same failure and aborts the job, which ends this process; the abort below
  // only runs if rank 0 is somehow still alive after a generous wait.
  std::this_thread::sleep_for(std::chrono::seconds(30));
#ifdef LRM_WITH_MPI
  if (initialised) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
  std::exit(exit_code);
}

std::uint64_t checksum(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

void check_same_everywhere(const std::string& what, const std::string& text) {
  if (!active()) return;
  const auto sums = allgather(std::to_string(checksum(text)));
  std::string differing;
  for (int r = 1; r < world_size; ++r)
    if (sums[r] != sums[0]) differing += (differing.empty() ? "" : ",") + std::to_string(r);
  if (differing.empty()) return;
  if (world_rank != 0) abort_job_quietly_after_rank0(2);
  throw InputError(what + " differ between MPI ranks (rank(s) " + differing +
                   " against rank 0): every rank must be started with the same options and see "
                   "the same input files");
}

namespace {

std::string describe_path(const std::string& arg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(arg, ec);
  if (ec) return {};
  if (fs::is_directory(status)) {
    size_t n = 0;
    for (auto it = fs::directory_iterator(arg, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      ++n;
    return " [folder of " + std::to_string(n) + "]";
  }
  if (!fs::is_regular_file(status)) return {};
  const auto bytes = fs::file_size(arg, ec);
  if (ec) return {};
  // The head and tail catch a different file of the same size without reading all of it.
  constexpr std::uintmax_t window = 64 << 10;
  std::ifstream in(arg, std::ios::binary);
  std::string head(std::min(bytes, window), '\0'), tail(std::min(bytes, window), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  in.seekg(static_cast<std::streamoff>(bytes - tail.size()));
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  return " [" + std::to_string(bytes) + " bytes, " + std::to_string(checksum(head + tail)) + "]";
}

}  // namespace

std::string describe_inputs(int argc, char** argv) {
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    out += arg;
    // --option=value names its file after the '='.
    const auto eq = arg.rfind("--", 0) == 0 ? arg.find('=') : std::string::npos;
    out += describe_path(eq == std::string::npos ? arg : arg.substr(eq + 1));
    out += '\n';
  }
  return out;
}

std::string with_lock_hint(const std::string& message) {
  if (message.find("lock") == std::string::npos) return message;
  return message +
         "; if the file system has no working file locks (NFS, Lustre, some parallel file "
         "systems), set HDF5_USE_FILE_LOCKING=FALSE for every rank or use a shared file system "
         "with locking";
}

}  // namespace lrm::mpi
