#pragma once
// Old option spellings kept for users' scripts: they set the same value as the new spelling and,
// when used, print a note naming the new one (unless --quiet).
#include <cstdio>
#include <string>

#include "cli/command.hpp"

namespace lrm::cli {

// Adds `old_flag` as a hidden alias of an option that sets `value`.
template <class T>
void add_deprecated_alias(CLI::App* cmd, const std::string& old_flag, T& value) {
  cmd->add_option(old_flag, value)->group("");
}

// After parsing: "lrm: note: <old> is deprecated here; use <replacement>" if `old_flag` was given.
inline void note_deprecated(const CLI::App* cmd, const std::string& old_flag,
                            const std::string& old_usage, const std::string& replacement,
                            const Globals& globals) {
  if (cmd->count(old_flag) > 0 && !globals.quiet)
    std::fprintf(stderr, "lrm: note: %s is deprecated here; use %s\n", old_usage.c_str(),
                 replacement.c_str());
}

}  // namespace lrm::cli
