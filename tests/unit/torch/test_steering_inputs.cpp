// Composites, triplets, steering vectors and prototypes, with the bad inputs of issue 6: fewer
// than 3 categories, overlays of different sizes, α ≤ 0, vector files of the wrong width and
// categories without exemplars.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "common/error.hpp"
#include "io/h5.hpp"
#include "model/presets.hpp"
#include "steering/composites.hpp"
#include "steering/vectors.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using namespace lrm::steering;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() { return lrm::test_support::test_temp_dir(); }

// A small stimulus set in the suite's HDF5 layout: `per_category` random 28×28 digits per category.
std::string write_set(const std::vector<std::string>& categories, int per_category) {
  const auto path = temp_dir() / "set.h5";
  h5::File f(path, h5::File::Mode::create_truncate);
  auto root = f.root();
  std::vector<std::string> ids, cats;
  for (const auto& c : categories)
    for (int i = 0; i < per_category; ++i) {
      ids.push_back(c + "-" + std::to_string(i));
      cats.push_back(c);
    }
  torch::manual_seed(3);
  auto pixels =
      torch::randint(0, 256, {static_cast<std::int64_t>(ids.size()), 28, 28}, torch::kUInt8);
  h5::write_coordinate(root, "stimulus", ids);
  h5::write_aux_coordinate(root, "category", "stimulus", cats);
  h5::write_array(root, "images", pixels.data_ptr<std::uint8_t>(), {ids.size(), 28, 28},
                  {"stimulus", "y", "x"});
  return path.string();
}

}  // namespace

TEST(SteeringComposites, OverlayAndSideBySide) {
  auto a = torch::rand({1, 4, 5}), b = torch::rand({1, 4, 5});
  auto o = make_composite(a, b, CompositeKind::overlay);
  EXPECT_TRUE(torch::allclose(o, 0.5 * a + 0.5 * b));
  auto s = make_composite(a, b, CompositeKind::side_by_side);
  EXPECT_EQ(s.sizes().vec(), (std::vector<std::int64_t>{1, 4, 10}));
  EXPECT_TRUE(torch::equal(s.slice(2, 5, 10), b));
  // Side by side needs equal heights only; overlays equal sizes.
  EXPECT_NO_THROW(make_composite(a, torch::rand({1, 4, 7}), CompositeKind::side_by_side));
  EXPECT_THROW(make_composite(a, torch::rand({1, 4, 7}), CompositeKind::overlay), InputError);
  EXPECT_THROW(make_composite(a, torch::rand({1, 3, 5}), CompositeKind::side_by_side), InputError);
  EXPECT_THROW(parse_composite_kind("blend"), InputError);
}

TEST(SteeringComposites, TripletsAreSeededAndDistinct) {
  std::vector<std::string> cats;
  for (int i = 0; i < 40; ++i) cats.push_back("c" + std::to_string(i % 4));
  TripletOptions o;
  o.count = 200;
  o.seed = 11;
  auto t = draw_triplets(cats, o, "test set");
  ASSERT_EQ(t.size(), 200u);
  for (const auto& x : t) {
    std::set<std::string> distinct{cats[x.image1], cats[x.image2], cats[x.absent_image]};
    EXPECT_EQ(distinct.size(), 3u);
  }
  auto again = draw_triplets(cats, o, "test set");
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t[i].image1, again[i].image1);
  o.seed = 12;
  auto other = draw_triplets(cats, o, "test set");
  int same = 0;
  for (std::size_t i = 0; i < t.size(); ++i) same += t[i].image1 == other[i].image1;
  EXPECT_LT(same, 100);

  o.unique_pairs = true;
  auto unique = draw_triplets(cats, o, "test set");
  std::set<std::pair<std::int64_t, std::int64_t>> pairs;
  for (const auto& x : unique)
    pairs.insert({std::min(x.image1, x.image2), std::max(x.image1, x.image2)});
  EXPECT_EQ(pairs.size(), unique.size());
  // 4 categories × 10 images: 600 unordered cross-category pairs, so 601 cannot be unique.
  o.count = 601;
  EXPECT_THROW(draw_triplets(cats, o, "test set"), InputError);
}

TEST(SteeringComposites, FewerThanThreeCategories) {
  TripletOptions o;
  try {
    draw_triplets({"a", "b", "a", "b"}, o, "two.h5");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("two.h5"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("3"), std::string::npos);
  }
}

TEST(SteeringVectors, OneHotAlphasAndClasses) {
  auto v = one_hot(3, 10);
  EXPECT_EQ(v.sum().item<float>(), 1.0f);
  EXPECT_EQ(v[3].item<float>(), 1.0f);
  EXPECT_NO_THROW(check_alphas({1, 2.5}, "--alphas"));
  EXPECT_THROW(check_alphas({1, 0}, "--alphas"), InputError);
  EXPECT_THROW(check_alphas({-1}, "--alphas"), InputError);
  EXPECT_THROW(check_alphas({}, "--alphas"), InputError);
  auto c = parse_classes("", {"b", "a", "c", "a"}, 10);
  EXPECT_EQ(c.names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.index_of("c"), 2);
  EXPECT_THROW(c.index_of("zebra"), InputError);
  EXPECT_THROW(parse_classes("a,b,c", {}, 2), InputError);
  EXPECT_THROW(parse_vector_kind("clip"), InputError);
}

TEST(SteeringVectors, PrototypesRoundTripAndBadFiles) {
  auto set = stimuli::open_stimulus_set(write_set({"0", "1", "2"}, 4));
  torch::manual_seed(1);
  auto net = model::build(model::preset("mnist-lrm"));
  net->eval();
  const auto p = stimuli::Preprocess::preset("mnist");
  auto protos = compute_prototypes(*net, *set, p, "classifier.6", 0, {}, 5);
  ASSERT_EQ(protos.vectors.sizes().vec(), (std::vector<std::int64_t>{3, 10}));
  EXPECT_EQ(protos.n_exemplars, (std::vector<std::int64_t>{4, 4, 4}));
  // The prototype is the mean of the exemplars' outputs.
  auto outs = layer_outputs(*net, *set, {4, 5, 6, 7}, p, "classifier.6", 0, 2);
  EXPECT_TRUE(torch::allclose(protos.row("1"), outs.mean(0), 1e-5, 1e-6));
  // A category's prototype is the same to the last bit whichever others are asked for.
  EXPECT_TRUE(
      torch::equal(compute_prototypes(*net, *set, p, "classifier.6", 0, {"2", "1"}, 5).row("1"),
                   protos.row("1")));
  EXPECT_THROW(compute_prototypes(*net, *set, p, "classifier.6", 0, {"7"}, 5), InputError);

  const auto file = temp_dir() / "protos.h5";
  {
    h5::File f(file, h5::File::Mode::create_truncate);
    write_prototypes(f.root().require_group("prototypes"), protos);
  }
  auto classes = parse_classes("", set->categories(), 10);
  auto back = read_category_vectors(file.string(), classes, 10);
  EXPECT_EQ(back.categories, protos.categories);
  EXPECT_EQ(back.layer, "classifier.6");
  EXPECT_EQ(back.pass, 0);
  EXPECT_TRUE(torch::equal(back.vectors, protos.vectors));
  EXPECT_THROW(back.row("9"), InputError);
  // Width must equal the steering source's size.
  try {
    read_category_vectors(file.string(), classes, 12);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("protos.h5"), std::string::npos);
  }
  EXPECT_THROW(read_category_vectors((temp_dir() / "missing.h5").string(), classes, 10),
               InputError);

  // Unlabelled rows follow the class order.
  const auto plain = temp_dir() / "plain.h5";
  {
    h5::File f(plain, h5::File::Mode::create_truncate);
    std::vector<float> m(30, 0.5f);
    h5::write_array(f.root(), "clip", m, {3, 10}, {"row", "dim"});
  }
  auto rows = read_category_vectors(plain.string() + ":/clip", classes, 10);
  EXPECT_EQ(rows.categories, classes.names);
  EXPECT_THROW(read_category_vectors(plain.string() + ":/clip", parse_classes("a,b", {}, 10), 10),
               InputError);
}

TEST(SteeringVectors, GainsAreOneOrTwoNumbers) {
  EXPECT_EQ(parse_gain("2.5"), (std::pair<double, double>{2.5, 2.5}));
  EXPECT_EQ(parse_gain("1:3"), (std::pair<double, double>{1, 3}));
  const auto same = parse_gains({"1", "2:2"});
  EXPECT_EQ(same.positive, (std::vector<double>{1, 2}));
  EXPECT_TRUE(same.negative.empty());
  const auto split = parse_gains({"1", "2:4"});
  EXPECT_EQ(split.positive, (std::vector<double>{1, 4}));
  EXPECT_EQ(split.negative, (std::vector<double>{1, 2}));
  for (const char* bad : {"", "x", "1:", ":1", "1:2:3", "2a"})
    EXPECT_THROW(parse_gain(bad), SettingError) << bad;
  EXPECT_THROW(check_alphas({std::nan("")}, "steer-strength"), SettingError);
}

TEST(SteeringVectors, FirstNonFiniteRowAndMemoryCheck) {
  auto t = torch::zeros({3, 4, 2});
  EXPECT_EQ(first_nonfinite_row(t, 1), -1);
  t[2][1][0] = NAN;
  t[0][3][1] = INFINITY;
  EXPECT_EQ(first_nonfinite_row(t, 0), 0);
  EXPECT_EQ(first_nonfinite_row(t, 1), 1);
  EXPECT_EQ(first_nonfinite_row(torch::tensor({1.0, std::nan("")}), 0), 1);
  EXPECT_NO_THROW(check_memory(1e6, "composites", "tables"));
  EXPECT_THROW(check_memory(1e18, "composites", "tables"), SettingError);
}
