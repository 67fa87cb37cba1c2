// lrm report: figures (PDF, SVG, PNG) and index.html for every analysis in a results file. The
// figures are drawn by the matplotlib scripts in reports/ (Debian's python3-matplotlib and
// python3-xarray); this command finds them, checks its input and runs the driver.
#include <hdf5.h>
#include <spawn.h>
#include <sys/wait.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "io/h5.hpp"
#include "io/output_path.hpp"

extern char** environ;

namespace lrm::cli {
namespace {
namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";

struct ReportArgs {
  std::string results;
  std::string out;
  std::vector<std::string> only;
};

// The reports/ folder: $LRM_REPORTS_DIR, the source tree the executable was built from, or
// ../reports and ../share/lrm/reports next to the executable (an installed or moved build).
fs::path reports_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("LRM_REPORTS_DIR")) candidates.emplace_back(env);
#ifdef LRM_SOURCE_DIR
  candidates.emplace_back(fs::path(LRM_SOURCE_DIR) / "reports");
#endif
  std::error_code ec;
  const auto exe = fs::canonical("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / "reports");
    candidates.push_back(exe.parent_path().parent_path() / "share" / "lrm" / "reports");
  }
  std::string looked;
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c / "make_report.py")) return c;
    looked += (looked.empty() ? "" : ", ") + c.string();
  }
  throw InputError("cannot find the report scripts (reports/make_report.py) in " + looked +
                   "; set LRM_REPORTS_DIR to the suite's reports folder");
}

struct FigureKind {
  std::string name;
  std::string paper;  // the figure or table of the paper it reproduces, if any
};

// The figure kinds, from reports/figure_kinds.toml: the one list that make_report.py and the
// tests read too.
std::vector<FigureKind> figure_kinds(const fs::path& dir) {
  const auto path = dir / "figure_kinds.toml";
  toml::table t;
  try {
    t = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    throw InputError(path.string() + " cannot be read: " + std::string(e.description()));
  }
  std::vector<FigureKind> kinds;
  if (const auto* list = t["kind"].as_array())
    for (const auto& entry : *list)
      if (const auto* k = entry.as_table())
        kinds.push_back(
            {(*k)["name"].value_or(std::string()), (*k)["paper"].value_or(std::string())});
  return kinds;
}

std::string kinds_help() {
  std::string text;
  try {
    for (const auto& k : figure_kinds(reports_dir()))
      text += (text.empty() ? "" : ", ") + k.name + (k.paper.empty() ? "" : " (" + k.paper + ")");
  } catch (const InputError& e) {
    return std::string("Figure kinds: unknown here (") + e.what() + ").\n";
  }
  return "Figure kinds: " + text + ".\n";
}

void check_kinds(const std::vector<std::string>& only) {
  const auto kinds = figure_kinds(reports_dir());
  std::string known;
  for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k.name;
  for (const auto& name : only)
    if (std::none_of(kinds.begin(), kinds.end(), [&](const auto& k) { return k.name == name; }))
      throw SettingError("only", "unknown figure kind '" + name + "' (known: " + known + ")");
}

int run_and_wait(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0].c_str(), nullptr, nullptr, args.data(), environ) != 0)
    throw InputError("cannot start " + argv[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// The results file opens (not truncated or corrupt) and is not one the suite marked unfinished.
void check_results(const std::string& results) {
  if (!fs::exists(results)) throw InputError("results file " + results + " does not exist");
  if (!fs::is_regular_file(results) || H5Fis_hdf5(results.c_str()) <= 0)
    throw InputError("results file " + results + " is not an HDF5 file");
  h5::File f(results, h5::File::Mode::read);
  if (f.root().attr_number("complete").value_or(1) != 1)
    throw InputError("results file " + results +
                     " is not marked complete (an interrupted run?); finish or rerun it first");
}

// The nearest existing folder above the report folder takes new entries (the scripts make the
// missing folders and <out>.partial there).
void check_report_folder(const fs::path& out) {
  fs::path parent = fs::absolute(out).parent_path();
  std::error_code ec;
  while (!fs::exists(parent, ec) && parent.has_parent_path() && parent != parent.parent_path())
    parent = parent.parent_path();
  if (!fs::is_directory(parent, ec))
    throw SettingError("out", out.string() + ": " + parent.string() + " is not a folder");
  if (access(parent.c_str(), W_OK | X_OK) != 0)
    throw SettingError("out", out.string() + ": cannot write in " + parent.string() + " (" +
                                  std::strerror(errno) + ")");
}

void report(const ReportArgs& a) {
  check_results(a.results);
  if (!fs::exists(kPython))
    throw InputError(std::string("lrm report needs ") + kPython +
                     " with python3-matplotlib and python3-xarray (apt-get install "
                     "python3-matplotlib python3-xarray python3-h5netcdf)");
  check_kinds(a.only);
  const fs::path out =
      a.out.empty() ? fs::path(fs::path(a.results).replace_extension("").string() + "_report")
                    : fs::path(a.out);
  io::check_output_is_not_an_input(out, {a.results});
  check_report_folder(out);
  std::vector<std::string> argv{kPython, (reports_dir() / "make_report.py").string(), a.results,
                                "--out", out.string()};
  if (!a.only.empty()) {
    std::string kinds;
    for (const auto& k : a.only) kinds += (kinds.empty() ? "" : ",") + k;
    argv.insert(argv.end(), {"--only", kinds});
  }
  const int status = run_and_wait(argv);
  if (status == 2) throw InputError("the report scripts could not read " + a.results);
  if (status != 0)
    throw std::runtime_error("some figures of " + a.results +
                             " failed (listed above and in index.html); the others are in " +
                             out.string());
}

}  // namespace

void add_report_command(CLI::App& app, const Globals&) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report",
      "Figures (PDF for papers, SVG, PNG) for every analysis in a results file, and index.html "
      "with the figures, key tables and provenance; analyses absent from the file are skipped "
      "and named");
  cmd->add_option("results", args->results, "Results file written by lrm (HDF5)")->required();
  cmd->add_option("--out", args->out,
                  "Report folder, written as <out>.partial and renamed when complete "
                  "(default: <results without .h5>_report)");
  cmd->add_option("--only", args->only, "Only these figure kinds (comma-separated)")
      ->delimiter(',');
  cmd->footer([] {
    return kinds_help() +
           "Each kind is also a script usable alone: /usr/bin/python3 reports/<kind>.py "
           "results.h5 --out dir. The scripts are found in $LRM_REPORTS_DIR or the source tree.";
  });
  cmd->callback([args] { report(*args); });
}

}  // namespace lrm::cli
