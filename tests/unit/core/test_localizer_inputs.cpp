// The localizer's handling of bad input and its result file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "io/h5.hpp"
#include "localizer/localize_file.hpp"
#include "localizer/localizer.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
namespace fs = std::filesystem;

namespace {

using lrm::test_support::temp_path;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// 3 units: 0 prefers "a", 1 is constant, 2 holds a NaN.
const std::vector<std::string> category{"a", "a", "a", "b", "b", "b", "c", "c"};
const std::vector<float> data{9, 1, 1, 10,  1, 2, 11, 1, NAN, 1, 1, 2,
                              2, 1, 3, 1.5, 1, 1, 2,  1, 2,   1, 1, 3};

}  // namespace

TEST(LocalizerInputs, BadCategoriesNameTheProblem) {
  localizer::Options options;
  options.targets = {"faces"};
  EXPECT_NE(error_of([&] {
              localizer::localize(data.data(), 8, 3, category, options, "A.h5:conv");
            }).find("target category 'faces' is not among its categories (a, b, c)"),
            std::string::npos);
  options.targets = {"a"};
  options.others = {"b", "zzz"};
  EXPECT_NE(error_of([&] {
              localizer::localize(data.data(), 8, 3, category, options, "A.h5:conv");
            }).find("'zzz'"),
            std::string::npos);
  auto one_image = category;
  one_image[7] = "d";
  options.others = {};
  EXPECT_NE(error_of([&] {
              localizer::localize(data.data(), 8, 3, one_image, options, "A.h5:conv");
            }).find("category 'c' has 1 image(s)"),
            std::string::npos);
  options.q = 1.5;
  // The library names the setting by its key; the CLI prints it as --q.
  EXPECT_NE(error_of([&] {
              localizer::localize(data.data(), 8, 3, category, options, "x");
            }).find("q: must lie in (0, 1)"),
            std::string::npos);
}

TEST(LocalizerInputs, ConstantUnitsAreNeverSelectiveAndNonFiniteValuesAreCounted) {
  localizer::Options options;
  options.fdr = stats::FdrMethod::bh;
  options.ratio = 2.0;
  const auto r = localizer::localize(data.data(), 8, 3, category, options, "x");
  ASSERT_EQ(r.targets.size(), 3u);
  const auto& a = r.targets[0];
  EXPECT_EQ(a.target, "a");
  EXPECT_EQ(a.others, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(a.selective, (std::vector<std::uint8_t>{1, 0, 0}));
  EXPECT_TRUE(std::isnan(a.t[1]) && std::isnan(a.p_adjusted[1]));
  EXPECT_EQ(a.n_undefined, (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(r.nonfinite, (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_DOUBLE_EQ(a.ratio[0], 10.0 / 1.5);
  // t of b vs a is the negative of a vs b, with the same adjusted p.
  const auto& b = r.targets[1];
  EXPECT_EQ(b.t[0], -a.t[0]);
  EXPECT_EQ(b.p_adjusted[0], a.p_adjusted[0]);
}

TEST(LocalizerInputs, FileWithoutCategoriesIsRejectedAndResultsMapBackToUnits) {
  const auto in = temp_path("loc_activations.h5");
  {
    h5::File f(in, h5::File::Mode::create_truncate);
    auto g = f.root().require_group("activations/conv");
    h5::write_coordinate(g, "unit", std::vector<std::int64_t>{0, 1, 2});
    h5::write_array(g, "pass1", data, {8, 3}, {"stimulus", "unit"});
  }
  localizer::FileOptions options;
  const auto out = temp_path("loc_results.h5");
  EXPECT_NE(error_of([&] {
              localizer::localize_file(in, out, options, {});
            }).find("no category coordinate"),
            std::string::npos);
  {
    h5::File f(in, h5::File::Mode::read_write);
    auto g = f.root().group("activations/conv");
    h5::write_aux_coordinate(g, "category", "stimulus", category);
    for (const char* name : {"channel", "y", "x"})
      h5::write_aux_coordinate(g, name, "unit", std::vector<std::int64_t>{0, 0, 1});
  }
  options.passes = {2};
  EXPECT_NE(error_of([&] { localizer::localize_file(in, out, options, {}); }).find("has no pass 2"),
            std::string::npos);
  options.passes = {};
  options.analysis.targets = {"a"};
  const auto rows = localizer::localize_file(in, out, options, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].n_selective, 1);
  EXPECT_EQ(rows[0].n_units_nonfinite, 1);
  h5::File f(out, h5::File::Mode::read);
  EXPECT_EQ(h5::read_array<std::uint8_t>(f, "/localizer/conv/pass1/a/selective").data,
            (std::vector<std::uint8_t>{1, 0, 0}));
  EXPECT_EQ(h5::dimension_names(f, "/localizer/conv/pass1/a/t"),
            (std::vector<std::string>{"comparison", "unit"}));
  EXPECT_EQ(h5::read_strings(f, "/localizer/conv/pass1/a/comparison"),
            (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(h5::read_array<std::int64_t>(f, "/localizer/conv/pass1/a/x").data,
            (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(h5::read_array<std::int64_t>(f, "/localizer/summary/n_selective").data,
            (std::vector<std::int64_t>{1}));
}

TEST(LocalizerInputs, UnfinishedFileNeedsAllowPartialAndOnlyItsCompleteRowsAreUsed) {
  const auto in = temp_path("partial_activations.h5");
  {
    h5::File f(in, h5::File::Mode::create_truncate);
    f.root().set_attr("complete", std::int64_t{0});  // as io::ResultFile leaves an unfinished run
    auto g = f.root().require_group("activations/conv");
    f.root().group("activations").set_attr("rows_complete", std::int64_t{6});
    h5::write_aux_coordinate(g, "category", "stimulus", category);
    h5::write_array(g, "pass1", data, {8, 3}, {"stimulus", "unit"});
  }
  localizer::FileOptions options;
  const auto out = temp_path("partial_results.h5");
  try {
    localizer::localize_file(in, out, options, {});
    ADD_FAILURE() << "an unfinished file was accepted";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "allow-partial");
  }
  EXPECT_FALSE(fs::exists(out));
  options.allow_partial = true;
  options.analysis.targets = {"a"};
  localizer::localize_file(in, out, options, {});
  h5::File f(out, h5::File::Mode::read);
  EXPECT_EQ(*f.root().group("localizer").attr_number("activations_partial_rows"), 6);
  // Rows 6 and 7 (category c) were not written completely, so only b is compared.
  EXPECT_EQ(h5::read_strings(f, "/localizer/conv/pass1/a/comparison"),
            (std::vector<std::string>{"b"}));
}
