// LibTorch's start-up (about 0.65 s: hundreds of shared libraries and its operator registry) would
// dominate the short statistics commands, so `lrm` itself does not link it and runs model
// commands through lrm-torch.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cli/command.hpp"

namespace lrm::cli {

int run_model_binary(int argc, char** argv) {
  const auto word = subcommand_word(argc, argv);
  // Without a subcommand only the help, which lists every command, needs lrm-torch.
  bool help = false;
  for (int i = 1; i < argc; ++i)
    help = help || std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0 ||
           std::strcmp(argv[i], "--help-all") == 0;
  if (word.empty() && !help) return -1;
  std::error_code ec;
  const auto self = std::filesystem::canonical("/proc/self/exe", ec);
  const auto model_binary = self.parent_path() / "lrm-torch";
  if (ec || !std::filesystem::exists(model_binary)) {
    if (word.empty()) return -1;
    std::fprintf(stderr,
                 "lrm: error: '%s' needs LibTorch: %s was not built (configure with "
                 "-DLRM_WITH_TORCH=ON)\n",
                 word.c_str(), model_binary.c_str());
    return 2;
  }
  execv(model_binary.c_str(), argv);
  std::fprintf(stderr, "lrm: error: cannot run %s: %s\n", model_binary.c_str(),
               std::strerror(errno));
  return 2;
}

}  // namespace lrm::cli
