#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <numeric>
#include <random>

#include "common/error.hpp"
#include "stimuli/batch_stream.hpp"
#include "stimuli/set_writer.hpp"

using namespace lrm;

namespace {

// 300 random 3×10×12 images in the suite's HDF5 layout, every third one in the test split (so
// that the train split's rows are not contiguous in the file).
std::filesystem::path make_set() {
  const auto path = std::filesystem::temp_directory_path() /
                    ("lrm_batch_stream_" + std::to_string(::getpid()) + ".h5");
  stimuli::ImageTable t;
  const std::uint64_t n = 300;
  t.shape = {n, 3, 10, 12};
  t.pixels.resize(n * 3 * 10 * 12);
  std::mt19937 rng(1);
  for (auto& p : t.pixels) p = static_cast<std::uint8_t>(rng() % 256);
  for (std::uint64_t i = 0; i < n; ++i) {
    t.ids.push_back("img" + std::to_string(i));
    t.categories.push_back(i % 2 ? "odd" : "even");
    t.split.push_back(i % 3 == 0 ? "test" : "train");
  }
  stimuli::write_stimulus_set(path, t, io::Provenance{});
  return path;
}

std::unique_ptr<stimuli::StimulusSet> open_train() {
  static const auto path = make_set();
  stimuli::OpenOptions o;
  o.split = "train";
  return stimuli::open_stimulus_set(path.string(), o);
}

stimuli::Preprocess small() {
  auto p = stimuli::Preprocess::preset("imagenet");
  p.resize = 9;
  p.crop = 8;
  return p;
}

std::vector<stimuli::Batch> drain(stimuli::BatchStream& s) {
  std::vector<stimuli::Batch> out;
  while (auto b = s.next()) out.push_back(std::move(*b));
  return out;
}

std::vector<std::size_t> shuffled(std::size_t n) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
  return order;
}

}  // namespace

TEST(BatchStream, AnyOrderGivesWhatLoadBatchGivesRowByRow) {
  auto set = open_train();
  const auto order = shuffled(set->size());
  std::vector<std::int64_t> shape;
  const auto all = set->load_batch(0, set->size(), small(), shape);
  const std::size_t size = all.size() / set->size();
  for (std::size_t budget : {std::size_t{1}, std::size_t{20000}, std::size_t{1} << 24}) {
    stimuli::StreamOptions o;
    o.preprocess = small();
    o.read_bytes = budget;
    stimuli::BatchStream stream(*set, stimuli::cut_batches(order, 32), o);
    const auto batches = drain(stream);
    ASSERT_EQ(batches.size(), (set->size() + 31) / 32);
    for (std::size_t b = 0; b < batches.size(); ++b) {
      EXPECT_EQ(batches[b].index, b);
      std::vector<float> expected;
      for (auto row : batches[b].rows)
        expected.insert(expected.end(), all.begin() + row * size, all.begin() + (row + 1) * size);
      EXPECT_EQ(batches[b].data, expected) << "budget " << budget << ", batch " << b;
      EXPECT_EQ(batches[b].shape, (std::vector<std::int64_t>{batches[b].shape[0], 3, 8, 8}));
    }
  }
}

TEST(BatchStream, AugmentationIsSeededAndIndependentOfHowRowsAreRead) {
  auto set = open_train();
  const auto batches = stimuli::cut_batches(shuffled(set->size()), 16);
  auto run = [&](std::uint64_t seed, std::size_t budget, std::size_t ahead) {
    stimuli::StreamOptions o;
    o.preprocess = small();
    o.augmentation = stimuli::Augmentation::imagenet;
    o.seed = seed;
    o.read_bytes = budget;
    o.ahead = ahead;
    stimuli::BatchStream stream(*set, batches, o);
    return drain(stream);
  };
  const auto a = run(3, 1, 1), b = run(3, std::size_t{1} << 24, 4), c = run(4, 1, 1);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].data, b[k].data);
  EXPECT_NE(a[0].data, c[0].data);
  EXPECT_EQ(a[0].shape, (std::vector<std::int64_t>{16, 3, 8, 8}));
}

TEST(BatchStream, RandomResizedCropKeepsTheValueRangeAndSize) {
  stimuli::Image img;
  img.channels = 1;
  img.height = 20;
  img.width = 30;
  img.data.resize(600);
  for (int x = 0; x < 30; ++x)
    for (int y = 0; y < 20; ++y) img.at(0, y, x) = static_cast<float>(x) / 29;
  bool flipped = false, unflipped = false;
  for (std::uint64_t s = 0; s < 20; ++s) {
    stimuli::Draws d(s);
    const auto out = stimuli::random_resized_crop_flip(img, 7, d);
    ASSERT_EQ(out.height, 7);
    ASSERT_EQ(out.width, 7);
    for (float v : out.data) ASSERT_TRUE(v >= -1e-6f && v <= 1 + 1e-6f);
    (out.at(0, 3, 0) > out.at(0, 3, 6) ? flipped : unflipped) = true;
  }
  EXPECT_TRUE(flipped && unflipped);  // the flip is drawn, about half the time
  stimuli::Draws d1(5), d2(5);
  EXPECT_EQ(stimuli::random_resized_crop_flip(img, 7, d1).data,
            stimuli::random_resized_crop_flip(img, 7, d2).data);
}

TEST(BatchStream, AugmentationAndBatchSizeAreSettings) {
  EXPECT_NO_THROW(stimuli::augmentation_names.parse("imagenet", "augment"));
  EXPECT_THROW(stimuli::augmentation_names.parse("flip", "augment"), SettingError);
  EXPECT_THROW(stimuli::cut_batches({1, 2}, 0), SettingError);
}
