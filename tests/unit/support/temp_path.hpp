#pragma once
// A scratch directory per test and process: CTest runs each test in its own process, in parallel,
// so fixed file names in a shared folder would let two tests overwrite each other's files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

namespace lrm::test_support {

inline std::filesystem::path test_temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "global";
  for (char& c : name)
    if (c == '/') c = '_';
  auto dir = std::filesystem::temp_directory_path() / "lrm_tests" /
             (name + "-" + std::to_string(::getpid()));
  // A pid recurs across runs, and an earlier run's files would then be in the way: the folder
  // starts empty at its first use in this process.
  static std::set<std::filesystem::path> fresh;
  if (fresh.insert(dir).second) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::filesystem::path temp_path(const std::string& name) { return test_temp_dir() / name; }

}  // namespace lrm::test_support
