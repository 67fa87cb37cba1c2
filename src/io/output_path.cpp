#include "io/output_path.hpp"

#include <system_error>

#include "common/error.hpp"

namespace lrm::io {

namespace fs = std::filesystem;

void check_output_is_not_an_input(const fs::path& out, const std::vector<std::string>& inputs) {
  std::error_code ec;
  if (!fs::exists(out, ec)) return;  // a file yet to be made is no input
  for (const auto& spec : inputs) {
    // The spec names a file as a whole or in its part before a ':'.
    std::vector<fs::path> files{spec};
    if (const auto colon = spec.find(':'); colon != std::string::npos && colon > 0)
      files.emplace_back(spec.substr(0, colon));
    for (const auto& file : files)
      if (fs::exists(file, ec) && fs::equivalent(out, file, ec))
        throw SettingError("out", out.string() + " is also an input of this command (" + spec +
                                      "); choose another output file");
  }
}

}  // namespace lrm::io
