#include <string>

#include "cli/command.hpp"

namespace lrm::cli {

std::string subcommand_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--threads" || word == "--seed" || word == "--device" || word == "--precision") {
      ++i;  // skip the option's value
      continue;
    }
    if (word.rfind("-", 0) != 0) return word;
  }
  return "";
}

bool runs_here(const CLI::App& app, int argc, char** argv) {
  const auto word = subcommand_word(argc, argv);
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (sub->get_name() == word) return true;
  return false;
}

std::string unknown_subcommand(const CLI::App& app, int argc, char** argv) {
  return runs_here(app, argc, argv) ? "" : subcommand_word(argc, argv);
}

}  // namespace lrm::cli
