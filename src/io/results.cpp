#include "io/results.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "io/provenance_attrs.hpp"
#include "io/sha256.hpp"

#ifndef LRM_VERSION
#define LRM_VERSION "0.0.0"
#endif
#ifndef LRM_GIT_COMMIT
#define LRM_GIT_COMMIT "unknown"
#endif

namespace lrm::io {
namespace {
std::string g_command_line;

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}
}  // namespace

void set_command_line(std::string command_line) { g_command_line = std::move(command_line); }

std::string version_string() { return std::string(LRM_VERSION) + " (" + LRM_GIT_COMMIT + ")"; }

Provenance current_provenance(std::uint64_t seed) {
  Provenance p;
  p.command_line = g_command_line;
  p.seed = seed;
  if (const char* config = std::getenv("LRM_CONFIG_FILE")) {
    std::ifstream in(config);
    std::stringstream ss;
    ss << in.rdbuf();
    p.config_text = ss.str();
  }
  return p;
}

Provenance model_provenance(std::uint64_t seed, const ModelInputs& in) {
  auto p = current_provenance(seed);
  const auto record = [&](const std::string& key, const std::string& value) {
    if (!value.empty()) p.inputs[key] = value;
  };
  record("model", in.model);
  record("architecture", in.architecture);
  std::vector<std::string> weights;
  for (const auto& w : in.weights)
    if (!w.empty()) weights.push_back(w);
  if (weights.size() == 1) record(weights_sha256_attr, sha256_file(weights[0]));
  if (weights.size() > 1)
    for (std::size_t i = 0; i < weights.size(); ++i)
      record(weights_sha256_attr + ("_" + std::to_string(i)), sha256_file(weights[i]));
  record("stimuli", in.stimuli);
  record(stimuli_checksum_attr, in.stimuli_checksum);
  for (const auto& [k, v] : in.extra) record(k, v);
  return p;
}

std::filesystem::path ResultFile::partial_path(const std::filesystem::path& path) {
  return std::filesystem::path(path.string() + ".partial");
}

ResultFile::ResultFile(const std::filesystem::path& path, const Provenance& provenance)
    : final_path_(path) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      throw InputError("cannot create folder " + path.parent_path().string() + ": " + ec.message());
  }
  file_ = h5::File(partial_path(path), h5::File::Mode::create_truncate);
  auto root = file_.root();
  root.set_attr("lrm_version", std::string(LRM_VERSION));
  root.set_attr("git_commit", std::string(LRM_GIT_COMMIT));
  root.set_attr("command_line", provenance.command_line);
  root.set_attr("config", provenance.config_text);
  root.set_attr("seed", static_cast<std::int64_t>(provenance.seed));
  root.set_attr("start_time", now_iso8601());
  root.set_attr("host", host_name());
  for (const auto& [k, v] : provenance.inputs) root.set_attr(k, v);
  root.set_attr("complete", std::int64_t{0});
}

ResultFile ResultFile::resume(const std::filesystem::path& path) {
  ResultFile r;
  r.final_path_ = path;
  const auto partial = partial_path(path);
  if (!std::filesystem::exists(partial))
    throw InputError("nothing to resume: " + partial.string() + " does not exist");
  r.file_ = h5::File(partial, h5::File::Mode::read_write);
  return r;
}

ResultFile::~ResultFile() {
  // Uncommitted files stay under their .partial name for --resume; they never look complete.
  if (!committed_) file_.close();
}

void ResultFile::commit() {
  auto root = file_.root();
  root.set_attr("end_time", now_iso8601());
  root.set_attr("complete", std::int64_t{1});
  file_.flush();
  file_.close();
  std::error_code ec;
  std::filesystem::rename(partial_path(final_path_), final_path_, ec);
  if (ec)
    throw InputError("cannot move " + partial_path(final_path_).string() + " to " +
                     final_path_.string() + ": " + ec.message());
  committed_ = true;
}

bool is_complete(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path) || H5Fis_hdf5(path.string().c_str()) <= 0) return false;
  try {
    h5::File f(path, h5::File::Mode::read);
    return f.root().attr_number("complete").value_or(0) == 1;
  } catch (const InputError&) {
    return false;
  }
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read " + path.string());
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    check_interrupt();  // stimulus sets and weights of many GB take seconds to hash
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(reinterpret_cast<const unsigned char*>(buf.data()), static_cast<size_t>(in.gcount()));
  }
  return h.hex_digest();
}

}  // namespace lrm::io
