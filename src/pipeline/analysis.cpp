#include "pipeline/analysis.hpp"

#include <hdf5.h>
#include <spawn.h>
#include <sys/wait.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "io/h5.hpp"
#include "io/h5_copy.hpp"
#include "io/provenance_attrs.hpp"
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

using Environment = std::vector<std::pair<std::string, std::string>>;

// Runs argv with this process's environment, `set` replacing or adding variables.
int spawn_and_wait(const std::vector<std::string>& argv, const Environment& set) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    bool replaced = false;
    for (const auto& [name, value] : set) replaced |= entry.rfind(name + "=", 0) == 0;
    if (!replaced) env_strings.push_back(entry);
  }
  for (const auto& [name, value] : set) env_strings.push_back(name + "=" + value);
  std::vector<char*> env;
  for (auto& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  // Our buffered lines go out before the child's, which share the terminal or pipe.
  std::fflush(stdout);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0].c_str(), nullptr, nullptr, args.data(), env.data()) != 0)
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

// A path's identity for comparing analysis files however they were named.
fs::path identity(const fs::path& p) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : canonical;
}

// The analysis file that lrm arguments run `lrm run` on; "" when they run another command.
std::string nested_analysis(const std::vector<std::string>& args) {
  size_t i = 0;
  for (; i < args.size() && args[i].rfind('-', 0) == 0; ++i)
    if (args[i] == "--threads" || args[i] == "--seed") ++i;  // global options with a value
  if (i >= args.size() || args[i] != "run") return "";
  for (++i; i < args.size(); ++i) {
    if (args[i] == "--only" || args[i] == "--set")
      ++i;
    else if (args[i].rfind('-', 0) != 0)
      return args[i];
  }
  return "";
}

std::string join(const std::vector<std::string>& chain) {
  std::string out;
  for (const auto& s : chain) out += (out.empty() ? "" : " -> ") + s;
  return out;
}

// The analysis in `path`, or none when it is missing or invalid: the stage that runs it reports
// that when it runs.
std::optional<Analysis> readable_analysis(const fs::path& path) {
  try {
    return read_analysis(path);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

// Depth-first through the analyses that a's stages run; `running` holds the identities of the
// analyses on the current path (a included), `shown` their names as written.
void check_stages(const Analysis& a, std::vector<fs::path>& running,
                  std::vector<std::string>& shown) {
  for (const auto& s : a.stages) {
    std::vector<std::string> args;
    for (const auto& arg : s.args) args.push_back(substitute(arg, a));
    const std::string nested = nested_analysis(args);
    if (nested.empty()) continue;
    const std::string where =
        "analysis " + a.file.string() + ": stage '" + s.name + "' runs lrm run on " + nested;
    const fs::path id = identity(nested);
    shown.push_back(nested);
    if (std::find(running.begin(), running.end(), id) != running.end())
      throw InputError(where + ", which is already running (" + join(shown) +
                       "); nested analyses may not form a cycle");
    if (running.size() >= kMaxRunDepth)
      throw InputError(where + ": more than " + std::to_string(kMaxRunDepth) + " nested runs (" +
                       join(shown) + ")");
    if (const auto child = readable_analysis(nested)) {
      running.push_back(id);
      check_stages(*child, running, shown);
      running.pop_back();
    }
    shown.pop_back();
  }
}

std::string run_stack(const std::vector<fs::path>& enclosing, const Analysis& a) {
  std::string out;
  for (const auto& e : enclosing) out += e.string() + "\n";
  return out + identity(a.file).string();
}

}  // namespace

std::vector<fs::path> enclosing_runs() {
  std::vector<fs::path> out;
  const char* value = std::getenv(kRunStackVariable);
  if (!value) return out;
  std::istringstream lines(value);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.emplace_back(line);
  return out;
}

void check_no_recursion(const Analysis& a, const std::vector<fs::path>& enclosing) {
  std::vector<fs::path> running;
  std::vector<std::string> shown;
  for (const auto& e : enclosing) {
    running.push_back(identity(e));
    shown.push_back(e.string());
  }
  shown.push_back(a.file.string());
  if (std::find(running.begin(), running.end(), identity(a.file)) != running.end())
    throw InputError("analysis " + a.file.string() +
                     " is already running in an enclosing lrm run (" + join(shown) +
                     "); nested analyses may not form a cycle");
  if (running.size() >= kMaxRunDepth)
    throw InputError("analysis " + a.file.string() + ": more than " + std::to_string(kMaxRunDepth) +
                     " nested runs (" + join(shown) + ")");
  running.push_back(identity(a.file));
  check_stages(a, running, shown);
}

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
    for (const char* key : {"command_line", "seed", "start_time", "end_time", "lrm_version",
                            "git_commit", io::compute_attr})
      h5::copy_attribute(src_root, key, stage_group);
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

namespace {

// The [vars] table in file order, with `overrides` replacing values; every value a string.
std::vector<std::pair<std::string, std::string>> read_vars(const toml::table& t,
                                                           const fs::path& path,
                                                           const VariableOverrides& overrides) {
  std::vector<std::pair<std::string, std::string>> vars;
  if (const auto* node = t.get("vars")) {
    const auto* table = node->as_table();
    if (!table) throw InputError("analysis file " + path.string() + ": vars must be a table");
    for (const auto& [key, value] : *table) {
      const auto text = value.value<std::string>();
      if (!text)
        throw InputError("analysis file " + path.string() + ": variable '" +
                         std::string(key.str()) + "' must be a string");
      if (key.str() == "run")
        throw InputError("analysis file " + path.string() +
                         ": 'run' is not a variable name ({run} is the run folder)");
      vars.emplace_back(std::string(key.str()), *text);
    }
  }
  for (const auto& [name, value] : overrides) {
    auto it =
        std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
    if (it == vars.end()) {
      std::string names;
      for (const auto& v : vars) names += (names.empty() ? "" : ", ") + v.first;
      throw SettingError("set", "analysis " + path.string() + " has no variable '" + name +
                                    "' (its variables: " + (names.empty() ? "none" : names) + ")");
    }
    it->second = value;
  }
  return vars;
}

// `s` with each {variable} replaced; a {word} left that is not {run} names no variable.
std::string substitute_vars(std::string s, const Analysis& a, const std::string& where) {
  for (const auto& [name, value] : a.vars) {
    const std::string key = "{" + name + "}";
    for (size_t pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos + value.size()))
      s.replace(pos, key.size(), value);
  }
  for (size_t open = s.find('{'); open != std::string::npos; open = s.find('{', open + 1)) {
    const size_t close = s.find('}', open);
    if (close == std::string::npos) break;
    const std::string word = s.substr(open + 1, close - open - 1);
    const bool identifier =
        !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '_' || c == '-';
        });
    if (identifier && word != "run")
      throw InputError("analysis file " + a.file.string() + ": " + where + " uses {" + word +
                       "}, which is not a variable of the analysis (declare it under [vars])");
  }
  return s;
}

// A stage's `launch` as words. A launcher runs one lrm command (an `lrm run` under it would run the
// nested analysis once per rank), and may not itself be lrm, which would bypass the guard against
// runs without bound (check_no_recursion reads only args).
std::vector<std::string> read_launch(const toml::table& st, const fs::path& path, const Stage& s) {
  const auto* node = st.get("launch");
  if (!node) return {};
  const std::string where = "analysis file " + path.string() + ": stage '" + s.name + "' launch";
  const auto text = node->value<std::string>();
  if (!text) throw InputError(where + " must be a string (e.g. \"mpirun -n 8\")");
  std::vector<std::string> words;
  std::istringstream in(*text);
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty()) throw InputError(where + " is empty");
  for (const auto& w : words) {
    const auto name = fs::path(w).filename().string();
    if (name == "lrm" || name == "lrm-torch")
      throw InputError(where + " may not run lrm itself (the stage's args are the lrm command)");
  }
  if (!nested_analysis(s.args).empty())
    throw InputError(where + ": a stage that runs lrm run cannot have a launcher");
  return words;
}

void substitute_vars(Analysis& a) {
  a.run_dir = substitute_vars(a.run_dir.string(), a, "run_dir");
  a.report = substitute_vars(a.report, a, "report");
  for (auto& s : a.stages) {
    for (auto& arg : s.args) arg = substitute_vars(arg, a, "stage '" + s.name + "'");
    s.output = substitute_vars(s.output, a, "stage '" + s.name + "'");
    for (auto& w : s.launch) w = substitute_vars(w, a, "stage '" + s.name + "' launch");
  }
}

}  // namespace

Analysis read_analysis(const fs::path& path, const VariableOverrides& overrides) {
  if (!fs::exists(path)) throw InputError("analysis file " + path.string() + " does not exist");
  Analysis a;
  a.file = path;
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
  a.vars = read_vars(t, path, overrides);
  // The run's own values are part of its provenance.
  for (const auto& [name, value] : overrides) a.text += "\n# lrm run --set " + name + "=" + value;
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
    s.launch = read_launch(*st, path, s);
    a.stages.push_back(std::move(s));
  }
  substitute_vars(a);
  return a;
}

namespace {

void progress(const RunOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

// The environment of the processes a run spawns: the analysis for their provenance, and the
// analyses running (this one last) for check_no_recursion.
// A stage also learns its name, which its error line carries (see the CLI's error_prefix).
Environment stage_environment(const Analysis& a, const RunOptions& o, const std::string& stage) {
  return {{"LRM_CONFIG_FILE", o.config_path.string()},
          {kRunStackVariable, run_stack(o.enclosing, a)},
          {"LRM_STAGE", "stage '" + stage + "' of " + a.name}};
}

std::vector<std::string> lrm_command(const RunOptions& o, const std::vector<std::string>& args) {
  std::vector<std::string> argv{o.executable.string()};
  argv.insert(argv.end(), o.global_args.begin(), o.global_args.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// Runs one stage unless it is complete (and not forced); a failed stage or an incomplete output
// is an error naming the stage.
void run_stage(const Analysis& a, const Stage& s, const RunOptions& o) {
  const fs::path output = substitute(s.output, a);
  // A stage is done when its command exited 0 (marker) and its output is complete: outputs
  // rewritten while running, such as per-epoch checkpoints, exist before the stage ends.
  const fs::path marker = a.run_dir / ".stages" / (s.name + ".done");
  if (!o.force && fs::exists(marker) && stage_output_complete(output)) {
    progress(o, "[" + s.name + "] complete, skipped (" + output.string() + ")");
    return;
  }
  std::vector<std::string> args;
  for (const auto& arg : s.args) args.push_back(substitute(arg, a));
  auto argv = lrm_command(o, args);
  std::string line;
  for (const auto& w : s.launch) line += w + " ";
  line += "lrm";
  for (size_t i = 1; i < argv.size(); ++i) line += " " + argv[i];
  argv.insert(argv.begin(), s.launch.begin(), s.launch.end());
  progress(o, "[" + s.name + "] " + line);
  fs::remove(marker);
  const auto start = std::chrono::steady_clock::now();
  const int status = spawn_and_wait(argv, stage_environment(a, o, s.name));
  check_interrupt();
  // Bad input in a stage was reported by the stage itself, on one line naming the stage.
  if (status == 2)
    throw ReportedError("stage '" + s.name + "' of " + a.name + " refused its input", status);
  if (status != 0)
    throw InputError("stage '" + s.name + "' of " + a.name + " failed (exit status " +
                     std::to_string(status) + ")");
  if (!stage_output_complete(output))
    throw InputError("stage '" + s.name + "' finished but its output " + output.string() +
                     " is not complete");
  fs::create_directories(marker.parent_path());
  std::ofstream(marker) << output.string() << "\n";
  char took[64];
  std::snprintf(took, sizeof took, "%.1f",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  progress(o, "[" + s.name + "] done in " + took + " s");
}

}  // namespace

fs::path run_analysis(const Analysis& a, const RunOptions& o) {
  for (const auto& name : o.only) {
    bool found = false;
    for (const auto& s : a.stages) found |= s.name == name;
    if (!found) throw InputError("analysis " + a.name + " has no stage '" + name + "'");
  }
  check_no_recursion(a, o.enclosing);
  fs::create_directories(a.run_dir);
  std::vector<const Stage*> merged;
  for (const auto& s : a.stages) {
    check_interrupt();
    if (s.merge) merged.push_back(&s);
    if (o.only.empty() || std::find(o.only.begin(), o.only.end(), s.name) != o.only.end())
      run_stage(a, s, o);
  }
  const fs::path results = a.run_dir / a.results;
  if (results_out_of_date(a, results, merged)) merge_results(a, results, merged);
  if (!a.report.empty()) {
    const fs::path report_dir = a.run_dir / a.report;
    const auto argv = lrm_command(o, {"report", results.string(), "--out", report_dir.string()});
    if (spawn_and_wait(argv, stage_environment(a, o, "report")) != 0)
      throw InputError("the report of " + a.name + " failed (see above)");
  }
  return results;
}

}  // namespace lrm::pipeline
