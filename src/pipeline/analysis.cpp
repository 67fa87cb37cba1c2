#include "pipeline/analysis.hpp"

#include <hdf5.h>
#include <spawn.h>
#include <sys/wait.h>
#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "io/h5.hpp"
#include "io/h5_copy.hpp"
#include "io/results.hpp"

extern char** environ;

namespace lrm::pipeline {
namespace fs = std::filesystem;

namespace {

std::string substitute(std::string s, const Analysis& a) {
  const std::string key = "{run}";
  for (size_t pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos))
    s.replace(pos, key.size(), a.run_dir.string()), pos += a.run_dir.string().size();
  return s;
}

int spawn_and_wait(const std::vector<std::string>& argv, const fs::path& config) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("LRM_CONFIG_FILE=", 0) != 0) env_strings.emplace_back(*e);
  env_strings.push_back("LRM_CONFIG_FILE=" + config.string());
  std::vector<char*> env;
  for (auto& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  // Our buffered lines go out before the child's, which share the terminal or pipe.
  std::fflush(stdout);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0].c_str(), nullptr, nullptr, args.data(), env.data()) != 0)
    throw InputError("cannot start " + argv[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// The results file is remade when it is incomplete, was merged under another analysis text
// (merge_into or merge changed), or is older than a merged stage's output (a stage re-ran, or
// the run stopped between a stage and the merge).
bool results_out_of_date(const Analysis& a, const fs::path& results,
                         const std::vector<const Stage*>& stages) {
  if (!io::is_complete(results)) return true;
  if (h5::File(results, h5::File::Mode::read).root().attr_string("config") != a.text) return true;
  const auto merged_at = fs::last_write_time(results);
  for (const Stage* s : stages) {
    const fs::path output = substitute(s->output, a);
    if (fs::exists(output) && fs::last_write_time(output) > merged_at) return true;
  }
  return false;
}

}  // namespace

void merge_results(const Analysis& a, const fs::path& results_path,
                   const std::vector<const Stage*>& stages) {
  // Remade from scratch, so a re-run stage replaces its groups; the old file goes first so that
  // an interrupted merge leaves only the .partial, never a stale file that looks complete.
  fs::remove(results_path);
  io::Provenance p = io::current_provenance(0);
  p.config_text = a.text;
  io::ResultFile out(results_path, p);
  auto root = out.root();
  std::string stage_names;
  for (const Stage* s : stages) {
    check_interrupt();
    const fs::path src_path = substitute(s->output, a);
    if (H5Fis_hdf5(src_path.string().c_str()) <= 0) continue;
    h5::File src(src_path, h5::File::Mode::read);
    auto src_root = src.root();
    auto dest = s->merge_into == "/"
                    ? out.root()
                    : root.require_group(s->merge_into.substr(s->merge_into[0] == '/'));
    for (const auto& child : src_root.children())
      if (dest.has(child))
        throw InputError("analysis " + a.name + ": stages write the same group '" + s->merge_into +
                         "/" + child + "'; give stage '" + s->name + "' a different merge_into");
    h5::copy_children(src, dest);
    // The stage's own provenance goes with its groups.
    auto stage_group = root.require_group("provenance/" + s->name);
    for (const char* key :
         {"command_line", "seed", "start_time", "end_time", "lrm_version", "git_commit"}) {
      if (auto v = src_root.attr_string(key))
        stage_group.set_attr(key, *v);
      else if (auto n = src_root.attr_number(key))
        stage_group.set_attr(key, *n);
    }
    stage_group.set_attr("output", src_path.string());
    stage_names += (stage_names.empty() ? "" : ",") + s->name;
  }
  root.set_attr("analysis", a.name);
  root.set_attr("stages", stage_names);
  out.commit();
}

bool stage_output_complete(const fs::path& output) {
  if (!fs::exists(output)) return false;
  if (fs::is_regular_file(output) && H5Fis_hdf5(output.string().c_str()) > 0)
    return io::is_complete(output);
  return true;
}

Analysis read_analysis(const fs::path& path) {
  if (!fs::exists(path)) throw InputError("analysis file " + path.string() + " does not exist");
  Analysis a;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  a.text = ss.str();
  toml::table t;
  try {
    t = toml::parse(a.text, path.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "analysis file " << path.string() << " line " << e.source().begin.line << ": "
        << e.description();
    throw InputError(msg.str());
  }
  a.name = t["name"].value_or(path.stem().string());
  a.run_dir = t["run_dir"].value_or("runs/" + a.name);
  a.results = t["results"].value_or(std::string("results.h5"));
  a.report = t["report"].value_or(std::string());
  const auto* stages = t["stage"].as_array();
  if (!stages || stages->empty())
    throw InputError("analysis file " + path.string() + " has no [[stage]] entries");
  std::set<std::string> names;
  for (const auto& node : *stages) {
    const auto* st = node.as_table();
    if (!st)
      throw InputError("analysis file " + path.string() + ": each [[stage]] must be a table");
    Stage s;
    s.name = (*st)["name"].value_or(std::string());
    if (s.name.empty())
      throw InputError("analysis file " + path.string() + ": a stage has no name");
    if (!names.insert(s.name).second)
      throw InputError("analysis file " + path.string() + ": two stages are named '" + s.name +
                       "'");
    const auto* args = (*st)["args"].as_array();
    if (!args || args->empty())
      throw InputError("analysis file " + path.string() + ": stage '" + s.name + "' has no args");
    for (const auto& arg : *args) {
      auto v = arg.value<std::string>();
      if (!v)
        throw InputError("analysis file " + path.string() + ": stage '" + s.name +
                         "' args must be strings");
      s.args.push_back(*v);
    }
    s.output = (*st)["output"].value_or(std::string());
    if (s.output.empty())
      throw InputError("analysis file " + path.string() + ": stage '" + s.name + "' has no output");
    s.merge = (*st)["merge"].value_or(true);
    s.merge_into = (*st)["merge_into"].value_or(std::string("/"));
    a.stages.push_back(std::move(s));
  }
  return a;
}

fs::path run_analysis(const Analysis& a, const RunOptions& o) {
  for (const auto& name : o.only) {
    bool found = false;
    for (const auto& s : a.stages) found |= s.name == name;
    if (!found) throw InputError("analysis " + a.name + " has no stage '" + name + "'");
  }
  fs::create_directories(a.run_dir);
  std::vector<const Stage*> merged;
  for (const auto& s : a.stages) {
    check_interrupt();
    const bool selected =
        o.only.empty() || std::find(o.only.begin(), o.only.end(), s.name) != o.only.end();
    const fs::path output = substitute(s.output, a);
    if (s.merge) merged.push_back(&s);
    if (!selected) continue;
    // A stage is done when its command exited 0 (marker) and its output is complete: outputs
    // rewritten while running, such as per-epoch checkpoints, exist before the stage ends.
    const fs::path marker = a.run_dir / ".stages" / (s.name + ".done");
    if (!o.force && fs::exists(marker) && stage_output_complete(output)) {
      if (!o.quiet) std::printf("[%s] complete, skipped (%s)\n", s.name.c_str(), output.c_str());
      continue;
    }
    std::vector<std::string> argv{o.executable.string()};
    argv.insert(argv.end(), o.global_args.begin(), o.global_args.end());
    for (const auto& arg : s.args) argv.push_back(substitute(arg, a));
    if (!o.quiet) {
      std::string line;
      for (size_t i = 1; i < argv.size(); ++i) line += " " + argv[i];
      std::printf("[%s] lrm%s\n", s.name.c_str(), line.c_str());
      std::fflush(stdout);
    }
    fs::remove(marker);
    const auto start = std::chrono::steady_clock::now();
    const int status = spawn_and_wait(argv, o.config_path);
    check_interrupt();
    if (status != 0)
      throw InputError("stage '" + s.name + "' of " + a.name + " failed (exit status " +
                       std::to_string(status) + ")");
    if (!stage_output_complete(output))
      throw InputError("stage '" + s.name + "' finished but its output " + output.string() +
                       " is not complete");
    fs::create_directories(marker.parent_path());
    std::ofstream(marker) << output.string() << "\n";
    if (!o.quiet)
      std::printf("[%s] done in %.1f s\n", s.name.c_str(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const fs::path results = a.run_dir / a.results;
  if (results_out_of_date(a, results, merged)) merge_results(a, results, merged);
  if (!a.report.empty()) {
    const fs::path report_dir = a.run_dir / a.report;
    std::vector<std::string> argv{o.executable.string()};
    argv.insert(argv.end(), o.global_args.begin(), o.global_args.end());
    for (const auto& arg :
         {std::string("report"), results.string(), std::string("--out"), report_dir.string()})
      argv.push_back(arg);
    if (spawn_and_wait(argv, o.config_path) != 0)
      throw InputError("the report of " + a.name + " failed (see above)");
    std::printf("report: %s\n", (report_dir / "index.html").c_str());
  }
  return results;
}

}  // namespace lrm::pipeline
