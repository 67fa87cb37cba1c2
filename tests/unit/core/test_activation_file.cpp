#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
namespace fs = std::filesystem;

namespace {

// True when `f` throws an InputError whose message contains `part`.
template <class F>
bool fails_naming(F f, const std::string& part) {
  std::string message;
  try {
    f();
  } catch (const InputError& e) {
    message = e.what();
  }
  return message.find(part) != std::string::npos;
}

// 5 stimuli x 6 units (value 10 * stimulus + unit), written chunked by 2 rows as extract does,
// for layer "conv" at passes 0 and 2; layer "fc" has pass 1 only and no categories.
fs::path make_file() {
  const auto path = test_support::temp_path("activations.h5");
  h5::File f(path, h5::File::Mode::create_truncate);
  auto conv = f.root().require_group("activations/conv");
  h5::write_coordinate(conv, "stimulus", std::vector<std::string>{"a", "b", "c", "d", "e"});
  h5::write_aux_coordinate(conv, "category", "stimulus",
                           std::vector<std::string>{"x", "x", "y", "y", "y"});
  h5::write_coordinate(conv, "unit", std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
  h5::write_aux_coordinate(conv, "channel", "unit", std::vector<std::int64_t>{0, 0, 0, 1, 1, 1});
  h5::write_aux_coordinate(conv, "y", "unit",
                           std::vector<std::string>{"0", "0", "0", "0", "0", "0"});
  for (int pass : {2, 0}) {
    h5::RowWriter<float> w(conv, io::pass_dataset_name(pass), {6}, 5, 2, {"stimulus", "unit"});
    for (int i = 0; i < 5; ++i) {
      std::vector<float> row(6);
      for (int j = 0; j < 6; ++j) row[j] = static_cast<float>(10 * i + j + 100 * pass);
      w.append(row.data(), 1);
    }
  }
  auto fc = f.root().require_group("activations/fc");
  h5::write_coordinate(fc, "stimulus", std::vector<std::string>{"a", "b", "c", "d", "e"});
  const std::vector<float> data(5 * 3, 1.0f);
  h5::write_array(fc, "pass1", data, {5, 3}, {"stimulus", "unit"});
  fc.require_group("pass3/steer-up");  // a steering condition's group is not a pass dataset
  return path;
}

}  // namespace

TEST(ActivationFile, PassNamesRoundTripAndRejectOtherNames) {
  EXPECT_EQ(io::pass_dataset_name(3), "pass3");
  EXPECT_EQ(io::parse_pass_dataset_name("pass12"), 12);
  EXPECT_EQ(io::parse_pass_dataset_name(io::pass_dataset_name(0)), 0);
  for (const char* name :
       {"pass", "pass-1", "passx", "pass1a", "stimulus", "Pass1", "pass99999999999"})
    EXPECT_FALSE(io::parse_pass_dataset_name(name)) << name;
  EXPECT_EQ(io::parse_pass_index("2", "passes"), 2);
  EXPECT_EQ(io::parse_pass_index("pass2", "passes"), 2);
  EXPECT_THROW(io::parse_pass_index("-1", "passes"), SettingError);
  EXPECT_THROW(io::parse_pass_index("2x", "passes"), SettingError);
  EXPECT_EQ(io::activation_dataset_name(1), "pass1");
  EXPECT_EQ(io::activation_dataset_name(1, "up"), "pass1/steer-up");
  EXPECT_EQ(io::layer_path("conv"), "/activations/conv");
  EXPECT_EQ((io::LayerPass{"conv", 2}).label(), "conv/pass2");
}

TEST(ActivationFile, ListsLayersPassesAndCoordinates) {
  const io::ActivationFile f(make_file());
  EXPECT_FALSE(f.complete());
  EXPECT_EQ(f.layers(), (std::vector<std::string>{"conv", "fc"}));
  EXPECT_EQ(f.passes("conv"), (std::vector<int>{0, 2}));
  EXPECT_EQ(f.passes("fc"), (std::vector<int>{1}));
  EXPECT_EQ(f.stimulus_ids("conv")[4], "e");
  EXPECT_EQ(f.categories("conv")[2], "y");
  EXPECT_TRUE(f.categories("fc").empty());
  EXPECT_TRUE(f.has_unit_coordinate("conv", "channel", 6));
  EXPECT_FALSE(f.has_unit_coordinate("conv", "x", 6));
  EXPECT_TRUE(fails_naming([&] { f.has_unit_coordinate("conv", "y", 6); }, "not one number"));
  const auto shape = f.shape({"conv", 2});
  EXPECT_EQ(shape.stimuli, 5);
  EXPECT_EQ(shape.units, 6);
  EXPECT_EQ(f.chunk_rows({"conv", 2}), 2);
}

TEST(ActivationFile, SelectsLayersAndPassesAndNamesWhatIsMissing) {
  const io::ActivationFile f(make_file());
  const auto all = f.select({}, {});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].label(), "conv/pass2");
  EXPECT_EQ(all[2].label(), "fc/pass1");
  const auto chosen = f.select({"conv"}, {2});
  ASSERT_EQ(chosen.size(), 1u);
  EXPECT_EQ(chosen[0].pass, 2);
  EXPECT_TRUE(fails_naming([&] { f.select({"fc9"}, {}); }, "has no layer 'fc9' (it has conv, fc)"));
  EXPECT_TRUE(fails_naming([&] { f.select({"conv"}, {1}); }, "has no pass 1"));
  const auto empty = test_support::temp_path("empty.h5");
  { h5::File(empty, h5::File::Mode::create_truncate); }
  EXPECT_TRUE(fails_naming([&] { io::ActivationFile{empty}; }, "has no /activations group"));
}

TEST(ActivationFile, ReadsByRowsAndByUnitColumns) {
  const io::ActivationFile f(make_file());
  const io::LayerPass lp{"conv", 2};
  const auto all = f.read(lp);
  ASSERT_EQ(all.rows, 5);
  ASSERT_EQ(all.cols, 6);
  EXPECT_EQ(all.data[3 * 6 + 4], 234.0f);
  std::vector<float> rows(2 * 6);
  f.read_rows(lp, 3, 2, rows.data());
  EXPECT_EQ(rows[0], 230.0f);
  EXPECT_EQ(rows[11], 245.0f);
  const auto units = f.read_units(lp, 4, 2);
  ASSERT_EQ(units.rows, 5);
  ASSERT_EQ(units.cols, 2);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 2; ++j) EXPECT_EQ(units.data[i * 2 + j], all.data[i * 6 + 4 + j]);
  EXPECT_TRUE(fails_naming([&] { f.read_units(lp, 5, 2); }, "outside"));
}

TEST(ActivationFile, AnUnfinishedFileIsReadOnlyUpToItsCompleteRowsWhenAllowed) {
  const auto path = make_file();
  {
    h5::File f(path, h5::File::Mode::read_write);
    f.root().set_attr("complete", std::int64_t{0});
    f.root().group("activations").set_attr("rows_complete", std::int64_t{3});
  }
  EXPECT_THROW(io::ActivationFile{path}, SettingError);
  {
    const io::ActivationFile f(path, true);
    EXPECT_EQ(f.partial_rows(), 3);
    const io::LayerPass lp{"conv", 2};
    EXPECT_EQ(f.shape(lp).stimuli, 3);
    EXPECT_EQ(f.read(lp).rows, 3);
    EXPECT_EQ(f.read(lp).data.size(), 18u);
    EXPECT_EQ(f.read_units(lp, 0, 2).rows, 3);
    EXPECT_EQ(f.stimulus_ids("conv").size(), 3u);
    EXPECT_EQ(f.categories("conv").size(), 3u);
  }
  {
    h5::File w(path, h5::File::Mode::read_write);
    w.root().set_attr("complete", std::int64_t{1});
  }
  EXPECT_FALSE(io::ActivationFile(path).partial_rows());
}
