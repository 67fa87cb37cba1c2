#pragma once
// A fixed train/test split named by stimulus ids (NSD's shared 1,000 images as the test set).
#include <string>
#include <vector>

#include "compare/regression.hpp"

namespace lrm::compare {

// One id per line (blank lines skipped, surrounding spaces trimmed); an InputError naming the file
// when it cannot be read or holds no id.
std::vector<std::string> read_id_list(const std::string& path);

// The split whose test stimuli are the ids in `test_ids` and whose training stimuli are the rest of
// `ids` (stimulus i of the analysis is ids[i]). Test ids absent from `ids` are an InputError naming
// them and `source`; so are fewer than 3 test or training stimuli.
Split split_by_ids(const std::vector<std::string>& ids, const std::vector<std::string>& test_ids,
                   const std::string& source);

}  // namespace lrm::compare
