// A deterministic mutation harness for the suite's file readers. For each target it mutates the
// seed files of tests/fuzz/corpus/<target>/ (case i always gets the same mutations), writes the
// mutant to a work folder and reads it as the commands do. A reader may accept a mutant or refuse
// it with an InputError; anything else is a finding: another exception (the user would see exit 1
// or 3 with internals), a sanitizer report or a crash (the process dies; tests/fuzz/run.sh
// restarts after the case), or a case that runs longer than the time limit (a hang).
//
//   lrm_fuzz <target> <corpus dir> <work dir> <seconds> [first case] [max cases]
//
// prints one line: "<target> cases <n> accepted <a> refused <r> findings <f> isolated <s> next
// <i>", where <s> counts the refusals of files on which the HDF5 library faulted or looped in the
// checking process (io/h5_check.hpp).
//
//   lrm_fuzz <target> --replay <file>...
//
// reads each file once as it is (the fixed findings kept in tests/fuzz/regressions/<target>/) and
// prints "<target> replayed <n> accepted <a> refused <r> findings <f>".
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "io/activation_file.hpp"
#include "io/assembly.hpp"
#include "io/mat.hpp"
#include "io/neural_responses.hpp"
#include "pipeline/analysis.hpp"
#include "stimuli/file_sets.hpp"
#include "stimuli/image.hpp"

namespace fs = std::filesystem;
using namespace lrm;

namespace {

using Bytes = std::string;

struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

// An offset, preferring bytes that are not zero (file structure and values rather than padding).
std::size_t pick_offset(Rng& rng, const Bytes& b) {
  std::size_t at = rng.below(b.size());
  for (int tries = 0; tries < 4 && b[at] == 0; ++tries) at = rng.below(b.size());
  return at;
}

void overwrite_integer(Rng& rng, Bytes& b) {
  static const std::uint64_t values[] = {0,          1,      0x7f,       0x80,
                                         0xff,       0xffff, 0x7fffffff, 0x80000000,
                                         0xffffffff, ~0ull,  1ull << 40, 0x100000};
  const std::size_t widths[] = {1, 2, 4, 8};
  const std::size_t w = widths[rng.below(4)];
  if (b.size() < w) return;
  const std::size_t at = std::min(pick_offset(rng, b), b.size() - w);
  const std::uint64_t v = values[rng.below(std::size(values))];
  for (std::size_t i = 0; i < w; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Text mutations for CSV and TOML: characters with meaning in the format, repeated or dropped
// lines, numbers out of range.
void mutate_text(Rng& rng, Bytes& b) {
  static const char* tokens[] = {",",
                                 "\"",
                                 "\n",
                                 "=",
                                 "[",
                                 "]",
                                 "[[",
                                 "{",
                                 "}",
                                 "nan",
                                 "-1",
                                 "1e400",
                                 "\\",
                                 "\"\"\"",
                                 "\t",
                                 "#",
                                 "..",
                                 "/",
                                 "99999999999999999999",
                                 "\xff",
                                 "\0"};
  const std::size_t at = rng.below(b.size() + 1);
  switch (rng.below(3)) {
    case 0: {
      const char* t = tokens[rng.below(std::size(tokens))];
      b.insert(at, t[0] ? std::string(t) : std::string(1, '\0'));
      break;
    }
    case 1: {  // repeat a line
      const auto start = b.rfind('\n', at == 0 ? 0 : at - 1);
      const auto s = start == Bytes::npos ? 0 : start + 1;
      const auto e = b.find('\n', s);
      const Bytes line = b.substr(s, e == Bytes::npos ? Bytes::npos : e - s + 1);
      b.insert(s, line);
      break;
    }
    default: {  // drop a line
      const auto s = b.rfind('\n', at == 0 ? 0 : at - 1);
      const auto e = b.find('\n', at);
      const auto from = s == Bytes::npos ? 0 : s;
      b.erase(from, e == Bytes::npos ? Bytes::npos : e - from);
    }
  }
}

void mutate_binary(Rng& rng, Bytes& b) {
  if (b.empty()) return;
  switch (rng.below(8)) {
    case 0:
    case 1: {  // flip bits
      const std::size_t n = 1 + rng.below(4);
      for (std::size_t i = 0; i < n; ++i)
        b[pick_offset(rng, b)] ^= static_cast<char>(1u << rng.below(8));
      break;
    }
    case 2:
    case 3:
    case 4:
      overwrite_integer(rng, b);
      break;
    case 5:  // truncate
      b.resize(rng.below(b.size()));
      break;
    case 6: {  // copy a block over another place
      const std::size_t len = 1 + rng.below(std::min<std::size_t>(b.size(), 64));
      const std::size_t from = rng.below(b.size() - len + 1), to = rng.below(b.size() - len + 1);
      const Bytes block = b.substr(from, len);
      b.replace(to, len, block);
      break;
    }
    default: {  // random bytes
      const std::size_t n = 1 + rng.below(8);
      const std::size_t at = pick_offset(rng, b);
      for (std::size_t i = 0; i < n && at + i < b.size(); ++i)
        b[at + i] = static_cast<char>(rng.next() & 0xff);
    }
  }
}

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
}

// The reads each command makes on its input.
void read_activations(const fs::path& p) {
  io::ActivationFile a(p);
  a.complete();
  a.attr("model");
  for (const auto& layer : a.layers()) {
    a.stimulus_ids(layer);
    a.categories(layer);
    for (int pass : a.passes(layer)) {
      const io::LayerPass lp{layer, pass};
      const auto shape = a.shape(lp);
      a.chunk_rows(lp);
      a.has_unit_coordinate(layer, "unit", shape.units);
      if (shape.stimuli * shape.units < (1 << 24)) a.read(lp);
      a.read_units(lp, 0, std::min<std::int64_t>(shape.units, 3));
    }
  }
}

void read_netcdf(const fs::path& p) { io::group_responses(io::read_brainio(p)); }

void read_mat(const fs::path& p) {
  const auto vars = io::mat_variables(p);
  // Each reader on its own: a refusal of one does not skip the others.
  const std::vector<std::function<void()>> reads{
      [&] { io::read_mat_rdms(p); },
      [&] { io::read_mat_images(p, vars.empty() ? "stimuli" : vars[0]); },
      [&] { io::read_mat_numeric(p, vars.empty() ? "rdms" : vars[0]); }};
  for (const auto& read : reads) {
    try {
      read();
    } catch (const InputError&) {
    }
  }
}

void read_image(const fs::path& p) {
  const auto img = stimuli::decode_image(p);
  if (static_cast<std::int64_t>(img.height) * img.width <= (1 << 22))
    stimuli::preprocess(img, stimuli::Preprocess::preset("imagenet"));
}

void read_manifest(const fs::path& p) {
  stimuli::ManifestStimulusSet set(p, {});
  for (std::size_t i = 0; i < std::min<std::size_t>(set.size(), 4); ++i) set.load(i);
}

void read_toml(const fs::path& p) { pipeline::read_analysis(p); }

struct Target {
  std::function<void(const fs::path&)> read;
  bool text;
};

const std::map<std::string, Target>& targets() {
  static const std::map<std::string, Target> t{{"activations", {read_activations, false}},
                                               {"netcdf", {read_netcdf, false}},
                                               {"mat", {read_mat, false}},
                                               {"image", {read_image, false}},
                                               {"csv", {read_manifest, true}},
                                               {"toml", {read_toml, true}}};
  return t;
}

std::uint64_t hash(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct Counts {
  std::uint64_t accepted = 0, refused = 0, isolated = 0, findings = 0;
};

// Reads one file as the target's commands do and counts the outcome; a finding is printed and
// kept in `work` (when given).
void read_case(const Target& target, const fs::path& path, const fs::path& work, Counts& n) {
  alarm(20);
  try {
    target.read(path);
    ++n.accepted;
  } catch (const InputError& e) {
    ++n.refused;
    // Refused because the HDF5 library faulted or looped on it in the checking process.
    const std::string what = e.what();
    if (what.find("crashes the HDF5 library") != std::string::npos ||
        what.find("in the HDF5 library") != std::string::npos)
      ++n.isolated;
  } catch (const std::exception& e) {
    ++n.findings;
    std::cout << "finding: " << path.filename().string() << ": " << typeid(e).name() << ": "
              << e.what() << "\n";
    if (!work.empty())
      fs::copy_file(path, work / ("finding-" + path.filename().string()),
                    fs::copy_options::overwrite_existing);
  }
  alarm(0);
}

extern "C" void on_alarm(int) {
  const char msg[] = "lrm_fuzz: hang: the case ran past its time limit\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  _exit(124);
}

int replay(const std::string& name, const Target& target, char** files, int count) {
  Counts n;
  for (int f = 0; f < count; ++f) read_case(target, files[f], {}, n);
  std::cout << name << " replayed " << count << " accepted " << n.accepted << " refused "
            << n.refused << " findings " << n.findings << "\n";
  return n.findings ? 1 : 0;
}

int fuzz(const std::string& name, const Target& target, const fs::path& corpus,
         const fs::path& work, double seconds, std::uint64_t first, std::uint64_t max_cases) {
  std::vector<fs::path> seeds;
  for (const auto& e : fs::directory_iterator(corpus))
    if (e.is_regular_file() && e.path().extension() != ".py") seeds.push_back(e.path());
  std::sort(seeds.begin(), seeds.end());
  if (seeds.empty()) {
    std::cerr << "lrm_fuzz: no seeds in " << corpus << "\n";
    return 64;
  }
  std::vector<Bytes> seed_bytes;
  for (const auto& s : seeds) seed_bytes.push_back(read_file(s));
  fs::create_directories(work);
  const auto start = std::chrono::steady_clock::now();
  Counts n;
  std::uint64_t cases = 0, i = first;
  for (; i - first < max_cases; ++i) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds)
      break;
    Rng rng{hash(name) ^ (i * 0x2545F4914F6CDD1Dull)};
    const std::size_t s = i % seeds.size();
    Bytes b = seed_bytes[s];
    const std::size_t n_mutations = 1 + rng.below(4);
    for (std::size_t m = 0; m < n_mutations; ++m) {
      if (target.text && rng.below(2) == 0)
        mutate_text(rng, b);
      else
        mutate_binary(rng, b);
    }
    // The case file keeps its seed's name (a manifest's images sit beside it). `current` names
    // the case being read and the counts so far, for run.sh to save a case that crashed.
    const fs::path path = work / ("case" + std::to_string(i) + "-" + seeds[s].filename().string());
    write_file(path, b);
    ++cases;
    write_file(work / "current", path.string() + "\n" + std::to_string(cases) + " " +
                                     std::to_string(n.accepted) + " " + std::to_string(n.refused) +
                                     " " + std::to_string(n.findings) + " " +
                                     std::to_string(n.isolated) + "\n");
    read_case(target, path, work, n);
    fs::remove(path);
  }
  std::cout << name << " cases " << cases << " accepted " << n.accepted << " refused " << n.refused
            << " findings " << n.findings << " isolated " << n.isolated << " next " << i << "\n";
  return n.findings ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool replaying = argc > 2 && std::string(argv[2]) == "--replay";
  if (argc < 5 && !replaying) {
    std::cerr << "usage: lrm_fuzz <target> <corpus dir> <work dir> <seconds> [first] [max]\n"
                 "       lrm_fuzz <target> --replay <file>...\n";
    return 64;
  }
  const std::string name = argv[1];
  auto it = targets().find(name);
  if (it == targets().end()) {
    std::cerr << "lrm_fuzz: unknown target " << name << "\n";
    return 64;
  }
  signal(SIGALRM, on_alarm);
  if (replaying) return replay(name, it->second, argv + 3, argc - 3);
  return fuzz(name, it->second, argv[2], argv[3], std::atof(argv[4]),
              argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 0,
              argc > 6 ? std::strtoull(argv[6], nullptr, 10) : ~0ull);
}
