#pragma once
// An output may never be an input of the same command: the result file replaces its path when it
// is committed, so the input would be lost (and read while it is being replaced).
#include <filesystem>
#include <string>
#include <vector>

namespace lrm::io {

// A SettingError of "out" when `out` names the same file as one of `inputs` (links and relative
// parts resolved). Inputs may be data specs ("file.h5:/path", "file.mat:variable"); their file
// part is compared. Files that do not exist are skipped (their readers report them).
void check_output_is_not_an_input(const std::filesystem::path& out,
                                  const std::vector<std::string>& inputs);

}  // namespace lrm::io
