#include "io/h5_check.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <sstream>
#include <tuple>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "io/h5.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define LRM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LRM_ASAN 1
#endif
#endif

namespace lrm::h5 {
namespace {

bool g_in_child = false;

// A page shared with the child, where it notes what it is reading, so the parent can name the
// object that made the library fail, and counts the steps it has finished, so the parent can
// tell a slow walk (a big file, a loaded machine) from a loop inside the library.
constexpr std::size_t kNoteSize = 1024;
struct Shared {
  std::atomic<std::uint64_t> steps;
  char note[kNoteSize];
};
Shared* g_shared = nullptr;

void note(const std::string& what) {
  if (g_shared == nullptr) return;
  const auto n = std::min(what.size(), kNoteSize - 1);
  std::memcpy(g_shared->note, what.data(), n);
  g_shared->note[n] = '\0';
  g_shared->steps.fetch_add(1, std::memory_order_relaxed);
}

constexpr std::uint64_t kFullReadBytes = 64u << 10;  // numeric data the child reads per dataset
constexpr int kMaxDepth = 64;
constexpr int kMaxObjects = 200000;
constexpr hsize_t kMaxAttributes = 4096;

// What the child read for the parent, by object path. A read that failed keeps its message.
struct Found {
  std::vector<std::string> values;
  bool present = true;  // false: an attribute that is absent or not a single string
  std::string error;
};

struct CheckedFile {
  std::map<std::string, Found> strings;     // dataset path
  std::map<std::string, Found> attrs;       // object path + '\n' + attribute name
  std::map<std::string, Found> dimensions;  // dataset path
};

template <typename Read>
Found record(Read&& read) {
  Found found;
  try {
    read(found);
  } catch (const std::exception& e) {
    found.error = e.what();
  }
  return found;
}

// Reads every element of an attribute in its native form and releases what HDF5 allocated
// (variable-length data), which follows the global heap references it holds.
void read_attribute(hid_t obj, const std::string& name) {
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) return;
  Handle type(H5Aget_type(attr.id()));
  Handle space(H5Aget_space(attr.id()));
  if (!type.valid() || !space.valid()) return;
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  Handle mem(H5Tget_native_type(type.id(), H5T_DIR_ASCEND));
  if (n <= 0 || n > (1 << 20) || !mem.valid()) return;
  const std::size_t size = H5Tget_size(mem.id());
  if (size == 0 || size > (1u << 16)) return;
  std::vector<unsigned char> buf(static_cast<std::size_t>(n) * size);
  if (H5Aread(attr.id(), mem.id(), buf.data()) < 0) return;
  if (H5Tdetect_class(mem.id(), H5T_VLEN) > 0 || H5Tis_variable_str(mem.id()) > 0)
    H5Dvlen_reclaim(mem.id(), space.id(), H5P_DEFAULT, buf.data());
}

// Every attribute of an object, read generically and then as the readers read it (`as_reader`).
void walk_attributes(hid_t obj, const std::string& where,
                     const std::function<std::optional<std::string>(const std::string&)>& as_reader,
                     CheckedFile& out) {
  H5O_info_t info;
  if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return;
  for (hsize_t i = 0; i < std::min(info.num_attrs, kMaxAttributes); ++i) {
    const ssize_t n =
        H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n <= 0 || n > (1 << 16)) continue;
    std::string name(static_cast<std::size_t>(n), '\0');
    if (H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1,
                           H5P_DEFAULT) < 0)
      continue;
    note(where + " attribute " + name);
    read_attribute(obj, name);
    out.attrs[where + '\n' + name] = record([&](Found& f) {
      auto v = as_reader(name);
      f.present = v.has_value();
      if (v) f.values.push_back(*v);
    });
  }
}

// Counting the chunks visits every node of the chunk index once, which the readers' lookups of
// single chunks (by coordinate) then trust. Lookups by index would cost a walk each.
void walk_chunk_index(hid_t ds) {
  Handle dcpl(H5Dget_create_plist(ds));
  if (!dcpl.valid() || H5Pget_layout(dcpl.id()) != H5D_CHUNKED) return;
  Handle space(H5Dget_space(ds));
  hsize_t n = 0;
  H5Dget_num_chunks(ds, space.id(), &n);
}

// The reads the suite's readers make on a dataset: its attributes, dimension scales, shape,
// strings, chunk index, and data (whole when small, else its first rows).
void walk_dataset(const File& f, const std::string& path, CheckedFile& out) {
  {
    Handle ds(H5Dopen2(f.id(), path.c_str(), H5P_DEFAULT));
    if (!ds.valid()) return;
    walk_attributes(
        ds.id(), path, [&](const std::string& name) { return dataset_attr_string(f, path, name); },
        out);
    note(path + " chunk index");
    walk_chunk_index(ds.id());
  }
  note(path + " dimension scales");
  out.dimensions[path] = record([&](Found& found) { found.values = dimension_names(f, path); });
  const auto shape = dataset_shape(f, path);
  if (is_string_dataset(f, path)) {
    note(path + " strings");
    out.strings[path] = record([&](Found& found) { found.values = read_strings(f, path); });
    return;
  }
  note(path + " data");
  std::uint64_t n = 1;
  for (auto d : shape) n = d > 0 && n > (~0ull >> 4) / d ? (~0ull >> 4) : n * d;
  if (n * sizeof(double) <= kFullReadBytes || shape.empty()) {
    read_array<double>(f, path);
  } else {
    const std::uint64_t row = std::max<std::uint64_t>(n / std::max<std::uint64_t>(shape[0], 1), 1);
    const std::uint64_t rows = std::max<std::uint64_t>(1, kFullReadBytes / sizeof(double) / row);
    read_rows<double>(f, path, 0, std::min(rows, shape[0]));
  }
}

struct Walk {
  const File& file;
  CheckedFile& out;
  std::map<std::pair<unsigned long, haddr_t>, std::string> seen;  // object -> first path
  int objects = 0;
};

// A hard link to an object the walk has read: its values are recorded under this path too.
void alias(CheckedFile& out, const std::string& first, const std::string& path) {
  for (auto* map : {&out.strings, &out.dimensions}) {
    auto it = map->find(first);
    if (it != map->end()) (*map)[path] = it->second;
  }
  const std::string prefix = first + '\n';
  std::vector<std::pair<std::string, Found>> attrs;
  for (auto it = out.attrs.lower_bound(prefix);
       it != out.attrs.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    attrs.emplace_back(path + '\n' + it->first.substr(prefix.size()), it->second);
  for (auto& [key, found] : attrs) out.attrs[key] = std::move(found);
}

void walk_group_attributes(Walk& w, const Group& g, const std::string& path) {
  walk_attributes(
      g.id(), path,
      [&](const std::string& name) {
        g.attr_number(name);
        return g.attr_string(name);
      },
      w.out);
}

void walk_group(Walk& w, const Group& g, const std::string& path, int depth) {
  walk_group_attributes(w, g, path);
  if (depth > kMaxDepth) return;
  for (const auto& name : g.children()) {
    if (++w.objects > kMaxObjects) return;
    const std::string child = path == "/" ? "/" + name : path + "/" + name;
    note(child);
    H5O_info_t info;
    if (H5Oget_info_by_name2(g.id(), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
      continue;
    const auto [seen, first] = w.seen.emplace(std::make_pair(info.fileno, info.addr), child);
    if (!first) {
      alias(w.out, seen->second, child);
      continue;
    }
    try {
      if (info.type == H5O_TYPE_GROUP)
        walk_group(w, g.group(name), child, depth + 1);
      else if (info.type == H5O_TYPE_DATASET)
        walk_dataset(w.file, child, w.out);
    } catch (const std::exception&) {
      // Errors HDF5 reports are the readers' to name; only faults and hangs matter here.
    }
  }
}

// One object only (`scope`), for a path the whole walk did not reach.
void walk_one(Walk& w, const std::string& scope) {
  H5O_info_t info;
  if (H5Oget_info_by_name2(w.file.id(), scope.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return;
  if (info.type == H5O_TYPE_DATASET) {
    walk_dataset(w.file, scope, w.out);
  } else if (info.type == H5O_TYPE_GROUP) {
    const Group g = scope == "/" ? w.file.root() : w.file.root().group(scope.substr(1));
    walk_group_attributes(w, g, scope);
  }
}

// Serialization through the pipe: counts and lengths as 8-byte integers, then the bytes.
void put(std::string& buf, std::uint64_t v) { buf.append(reinterpret_cast<const char*>(&v), 8); }
void put(std::string& buf, const std::string& s) {
  put(buf, s.size());
  buf += s;
}

std::string serialize(const CheckedFile& c) {
  std::string buf;
  for (const auto* map : {&c.strings, &c.attrs, &c.dimensions}) {
    put(buf, map->size());
    for (const auto& [key, found] : *map) {
      put(buf, key);
      put(buf, found.present ? 1 : 0);
      put(buf, found.error);
      put(buf, found.values.size());
      for (const auto& v : found.values) put(buf, v);
    }
  }
  return buf;
}

struct Reader {
  const std::string& buf;
  std::size_t at = 0;
  std::uint64_t number() {
    if (buf.size() - at < 8) throw std::runtime_error("short");
    std::uint64_t v;
    std::memcpy(&v, buf.data() + at, 8);
    at += 8;
    return v;
  }
  std::string text() {
    const auto n = number();
    if (buf.size() - at < n) throw std::runtime_error("short");
    std::string s = buf.substr(at, n);
    at += n;
    return s;
  }
};

CheckedFile deserialize(const std::string& buf) {
  CheckedFile c;
  Reader r{buf};
  for (auto* map : {&c.strings, &c.attrs, &c.dimensions}) {
    const auto entries = r.number();
    for (std::uint64_t i = 0; i < entries; ++i) {
      const std::string key = r.text();
      Found found;
      found.present = r.number() != 0;
      found.error = r.text();
      const auto n = r.number();
      if (n > buf.size()) throw std::runtime_error("short");
      for (std::uint64_t k = 0; k < n; ++k) found.values.push_back(r.text());
      (*map)[key] = std::move(found);
    }
  }
  return c;
}

// Bounds the child's memory so that a corrupt size makes it fail instead of swapping the machine
// (not under AddressSanitizer, which reserves terabytes of address space).
void limit_child_memory() {
#ifndef LRM_ASAN
  std::ifstream statm("/proc/self/statm");
  unsigned long pages = 0;
  if (!(statm >> pages)) return;
  const unsigned long page = static_cast<unsigned long>(sysconf(_SC_PAGESIZE));
  const unsigned long phys = static_cast<unsigned long>(sysconf(_SC_PHYS_PAGES)) * page;
  const rlim_t limit = pages * page + std::max(4ul << 30, phys / 4);
  rlimit rl{limit, limit};
  setrlimit(RLIMIT_AS, &rl);
#endif
}

void write_all(int fd, const std::string& buf) {
  for (std::size_t at = 0; at < buf.size();) {
    const ssize_t n = write(fd, buf.data() + at, buf.size() - at);
    if (n <= 0) return;
    at += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void run_child(const std::filesystem::path& path, const std::string& scope,
                            int out_fd) {
  g_in_child = true;
  // A fault ends the child by its signal; the parent reports it. Its messages are not the user's.
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGPIPE}) signal(s, SIG_DFL);
  signal(SIGINT, SIG_IGN);
  const int devnull = open("/dev/null", O_WRONLY);
  if (devnull >= 0) {
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
  }
  limit_child_memory();
  CheckedFile out;
  try {
    silence_errors_on_this_thread();
    note("the superblock");
    if (H5Fis_hdf5(path.c_str()) > 0) {
      File f(path, File::Mode::read);
      note("/");
      Walk w{f, out, {}, 0};
      if (scope.empty())
        walk_group(w, f.root(), "/", 0);
      else
        walk_one(w, scope);
    }
  } catch (const std::exception&) {
  }
  note("");
  write_all(out_fd, serialize(out));
  _exit(0);
}

// Seconds of processor time the child may spend without finishing a step before the file is
// refused (LRM_H5_CHECK_SECONDS sets another). Each step is one object, attribute or read, so
// a valid file of any size finishes steps steadily; a loop inside the library does not.
double stall_limit_s() {
  const char* env = std::getenv("LRM_H5_CHECK_SECONDS");
  const double v = env ? std::atof(env) : 0.0;
  return v > 0 ? v : 30.0;
}

// A child that waits instead of computing (a stopped process, a stalled disk) is refused after
// this many times the limit in wall-clock time without a step.
constexpr double kWallFactor = 10.0;

// Processor seconds the process has used; 0 when /proc cannot tell.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0.0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long user = 0, system = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) user = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) system = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

using FileKey = std::tuple<dev_t, ino_t, off_t, time_t, long>;
std::mutex g_mutex;
std::map<FileKey, std::shared_ptr<CheckedFile>> g_checked;

std::optional<FileKey> key_of(const std::filesystem::path& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileKey{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

// Watches the child's steps: it stalls when it spends `limit` processor seconds, or kWallFactor
// times that in wall-clock time, without finishing one.
class StallWatch {
 public:
  StallWatch(pid_t pid, const Shared& shared, double limit)
      : pid_(pid), shared_(shared), limit_(limit) {
    restart();
  }
  bool stalled() {
    const auto steps = shared_.steps.load(std::memory_order_relaxed);
    if (steps != steps_) {
      steps_ = steps;
      restart();
      return false;
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count();
    return wall > kWallFactor * limit_ || cpu_seconds(pid_) - cpu_ > limit_;
  }

 private:
  void restart() {
    wall_ = std::chrono::steady_clock::now();
    cpu_ = cpu_seconds(pid_);
  }
  pid_t pid_;
  const Shared& shared_;
  double limit_;
  std::uint64_t steps_ = 0;
  std::chrono::steady_clock::time_point wall_;
  double cpu_ = 0.0;
};

// Reads the child's report while it runs (a full pipe would stall it). Returns false when the
// child stalled.
bool collect(pid_t pid, int fd, StallWatch& watch, std::string& report, int& status) {
  char chunk[1 << 16];
  for (bool open = true; open;) {
    try {
      check_interrupt();
    } catch (const Interrupted&) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      throw;
    }
    if (watch.stalled()) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0)
      report.append(chunk, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      open = false;
  }
  waitpid(pid, &status, 0);
  return true;
}

// Runs the child on the whole file (scope "") or one object, and returns what it read.
CheckedFile run_check(const std::filesystem::path& path, const std::string& scope) {
  void* page =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int fds[2];
  if (page == MAP_FAILED || pipe(fds) != 0)
    throw InternalError("cannot start the process that checks " + path.string());
  auto* shared = new (page) Shared{};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    g_shared = shared;
    run_child(path, scope, fds[1]);
  }
  close(fds[1]);
  const auto release = [&] {
    close(fds[0]);
    munmap(page, sizeof(Shared));
  };
  if (pid < 0) {
    release();
    throw InternalError("cannot start the process that checks " + path.string());
  }
  const double limit = stall_limit_s();
  StallWatch watch(pid, *shared, limit);
  std::string report;
  int status = 0;
  bool finished = false;
  try {
    finished = collect(pid, fds[0], watch, report, status);
  } catch (...) {
    release();
    throw;
  }
  const std::string where(shared->note, strnlen(shared->note, kNoteSize));
  release();
  const std::string object = where.empty() ? "its structure" : where;
  if (!finished)
    throw InputError(path.string() + ": corrupt HDF5 file: reading " + object +
                     " makes no progress for " + std::to_string(static_cast<int>(limit)) +
                     " s in the HDF5 library");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw InputError(path.string() + ": corrupt HDF5 file: reading " + object +
                     " crashes the HDF5 library");
  try {
    return deserialize(report);
  } catch (const std::exception&) {
    throw InternalError("the process that checked " + path.string() + " sent an incomplete report");
  }
}

std::shared_ptr<CheckedFile> checked(const std::filesystem::path& path) {
  const auto key = key_of(path);
  if (!key) return nullptr;
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_checked.find(*key);
  return it == g_checked.end() ? nullptr : it->second;
}

// The entry for `key` in `map`, running a child on `object` when the walk did not record it.
const Found& lookup(const std::filesystem::path& file, const std::string& object,
                    const std::string& key, std::map<std::string, Found> CheckedFile::*map) {
  auto c = checked(file);
  if (!c) {
    check_readable(file);
    c = checked(file);
  }
  if (!c) throw InputError("cannot read " + file.string());
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = ((*c).*map).find(key);
    if (it != ((*c).*map).end()) return it->second;
  }
  CheckedFile more = run_check(file, object);
  std::lock_guard<std::mutex> lock(g_mutex);
  for (auto& [k, v] : more.strings) c->strings.emplace(k, std::move(v));
  for (auto& [k, v] : more.attrs) c->attrs.emplace(k, std::move(v));
  for (auto& [k, v] : more.dimensions) c->dimensions.emplace(k, std::move(v));
  auto it = ((*c).*map).find(key);
  if (it == ((*c).*map).end()) {
    static const Found absent{{}, false, ""};
    return absent;
  }
  return it->second;
}

}  // namespace

bool in_check_child() { return g_in_child; }

void check_readable(const std::filesystem::path& path) {
  if (g_in_child) return;
  const auto key = key_of(path);
  if (!key) return;  // the reader names a missing file
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_checked.count(*key)) return;
  }
  auto c = std::make_shared<CheckedFile>(run_check(path, ""));
  std::lock_guard<std::mutex> lock(g_mutex);
  g_checked.emplace(*key, std::move(c));
}

std::vector<std::string> checked_strings(const std::filesystem::path& file,
                                         const std::string& dataset) {
  const Found& f = lookup(file, dataset, dataset, &CheckedFile::strings);
  if (!f.error.empty()) throw InputError(f.error);
  if (!f.present) throw InputError("cannot read strings " + file.string() + ":" + dataset);
  return f.values;
}

std::optional<std::string> checked_attr_string(const std::filesystem::path& file,
                                               const std::string& object, const std::string& attr) {
  const Found& f = lookup(file, object, object + '\n' + attr, &CheckedFile::attrs);
  if (!f.present || !f.error.empty() || f.values.empty()) return std::nullopt;
  return f.values[0];
}

std::vector<std::string> checked_dimension_names(const std::filesystem::path& file,
                                                 const std::string& dataset) {
  const Found& f = lookup(file, dataset, dataset, &CheckedFile::dimensions);
  if (!f.error.empty()) throw InputError(f.error);
  return f.values;
}

}  // namespace lrm::h5
