#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "io/output_path.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
namespace fs = std::filesystem;

TEST(OutputPath, AnInputCannotBeTheOutputUnderAnyName) {
  const auto input = test_support::temp_path("input.h5");
  std::ofstream(input) << "x";
  const auto link = test_support::temp_path("link.h5");
  fs::create_symlink(input, link);
  const auto dotted = input.parent_path() / "." / input.filename();
  for (const auto& out : {input, link, dotted}) {
    try {
      io::check_output_is_not_an_input(out, {"other.h5", input.string() + ":/responses"});
      ADD_FAILURE() << out << " was accepted";
    } catch (const SettingError& e) {
      EXPECT_EQ(e.setting(), "out");
    }
  }
  EXPECT_NO_THROW(
      io::check_output_is_not_an_input(test_support::temp_path("new.h5"), {input.string()}));
  EXPECT_NO_THROW(io::check_output_is_not_an_input(input, {"", "missing.h5"}));
}
