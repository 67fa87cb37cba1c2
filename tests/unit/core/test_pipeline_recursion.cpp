// lrm run refuses analyses that would run themselves, found before any stage is spawned.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "pipeline/analysis.hpp"
#include "support/temp_path.hpp"

namespace fs = std::filesystem;
using namespace lrm;

namespace {
using lrm::test_support::temp_path;

// An analysis whose only stage runs `lrm <args>`.
fs::path write_analysis(const std::string& name, const std::string& args) {
  const fs::path path = temp_path(name + ".toml");
  std::ofstream(path) << "name = \"" << name << "\"\nrun_dir = \"" << temp_path("run").string()
                      << "\"\n\n[[stage]]\nname = \"nested\"\nargs = [" << args
                      << "]\noutput = \"{run}/out.h5\"\n";
  return path;
}

std::string quoted(const fs::path& p) { return "\"" + p.string() + "\""; }

// The message of the InputError that check_no_recursion throws ("" if none).
std::string refusal(const fs::path& analysis, const std::vector<fs::path>& enclosing = {}) {
  try {
    pipeline::check_no_recursion(pipeline::read_analysis(analysis), enclosing);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PipelineRecursion, StageRunningItsOwnAnalysisIsRefused) {
  const fs::path self = temp_path("self.toml");
  write_analysis("self", "\"--quiet\", \"run\", \"--force\", " + quoted(self));
  const std::string message = refusal(self);
  EXPECT_NE(message.find(self.string() + ": stage 'nested' runs lrm run on"), std::string::npos)
      << message;
  EXPECT_NE(message.find("already running"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(PipelineRecursion, CycleThroughAnotherAnalysisIsRefused) {
  const fs::path a = temp_path("a.toml"), b = temp_path("b.toml");
  write_analysis("a", "\"run\", " + quoted(b));
  write_analysis("b", "\"run\", \"--only\", \"nested\", " + quoted(a));
  const std::string message = refusal(a);
  EXPECT_NE(message.find("analysis " + b.string() + ": stage 'nested'"), std::string::npos)
      << message;
  EXPECT_NE(message.find(a.string() + " -> " + b.string() + " -> " + a.string()), std::string::npos)
      << message;
}

TEST(PipelineRecursion, NestedRunOfAnotherAnalysisIsAllowed) {
  const fs::path outer = temp_path("outer.toml"), inner = temp_path("inner.toml");
  write_analysis("inner", "\"stimuli\", \"info\", \"x\"");
  write_analysis("outer", "\"run\", " + quoted(inner));
  EXPECT_EQ(refusal(outer), "");
  // A nested analysis that does not exist (yet) is left to its stage to report.
  write_analysis("dangling", "\"run\", " + quoted(temp_path("missing.toml")));
  EXPECT_EQ(refusal(temp_path("dangling.toml")), "");
}

TEST(PipelineRecursion, AnalysisAlreadyRunningInAnEnclosingRunIsRefused) {
  const fs::path a = write_analysis("leaf", "\"stimuli\", \"info\", \"x\"");
  // Named another way (a relative path with a detour) it is still the same file.
  const fs::path other_name = a.parent_path() / "." / a.filename();
  const std::string message = refusal(a, {"/elsewhere/outer.toml", other_name});
  EXPECT_NE(message.find("already running in an enclosing lrm run"), std::string::npos) << message;
}

TEST(PipelineRecursion, NestingDepthIsBounded) {
  const fs::path a = write_analysis("deep", "\"stimuli\", \"info\", \"x\"");
  std::vector<fs::path> enclosing;
  for (std::size_t i = 0; i < pipeline::kMaxRunDepth; ++i)
    enclosing.push_back("/elsewhere/level" + std::to_string(i) + ".toml");
  EXPECT_NE(refusal(a, enclosing).find("nested runs"), std::string::npos);
  enclosing.pop_back();
  EXPECT_EQ(refusal(a, enclosing), "");
}
