#include "compare/id_split.hpp"

#include <fstream>
#include <unordered_map>

#include "common/error.hpp"

namespace lrm::compare {

std::vector<std::string> read_id_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot read the list of ids");
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    ids.push_back(line.substr(first, line.find_last_not_of(" \t\r") - first + 1));
  }
  if (ids.empty()) throw InputError(path + ": holds no id");
  return ids;
}

Split split_by_ids(const std::vector<std::string>& ids, const std::vector<std::string>& test_ids,
                   const std::string& source) {
  std::unordered_map<std::string, Eigen::Index> row;
  for (std::size_t i = 0; i < ids.size(); ++i) row.emplace(ids[i], static_cast<Eigen::Index>(i));
  std::vector<bool> is_test(ids.size(), false);
  std::vector<std::string> missing;
  for (const auto& id : test_ids) {
    const auto it = row.find(id);
    if (it == row.end())
      missing.push_back(id);
    else
      is_test[static_cast<std::size_t>(it->second)] = true;
  }
  if (!missing.empty()) {
    std::string names;
    for (std::size_t i = 0; i < missing.size() && i < 5; ++i) names += (i ? ", " : "") + missing[i];
    if (missing.size() > 5) names += ", ...";
    throw InputError(source + ": " + std::to_string(missing.size()) +
                     " test id(s) not among the stimuli of both model and brain data: " + names);
  }
  Split split;
  for (std::size_t i = 0; i < ids.size(); ++i)
    (is_test[i] ? split.test : split.train).push_back(static_cast<Eigen::Index>(i));
  if (split.test.size() < 3 || split.train.size() < 3)
    throw InputError(source + ": the split needs at least 3 test and 3 training stimuli (" +
                     std::to_string(split.test.size()) + " test, " +
                     std::to_string(split.train.size()) + " training)");
  return split;
}

}  // namespace lrm::compare
