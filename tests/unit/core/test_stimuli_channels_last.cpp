#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>

#include "common/error.hpp"
#include "io/h5.hpp"
#include "stimuli/stimulus_set.hpp"

using namespace lrm;

// NSD's stimulus brick is uint8 N×H×W×C: it must load as the same images stored N×C×H×W.
TEST(ChannelsLast, BrickLoadsAsTheChannelsFirstImages) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("lrm_channels_last_" + std::to_string(::getpid()) + ".h5");
  const std::uint64_t n = 4, h = 5, w = 6, c = 3;
  std::vector<std::uint8_t> last(n * h * w * c), first(n * c * h * w);
  for (std::uint64_t i = 0; i < n; ++i)
    for (std::uint64_t y = 0; y < h; ++y)
      for (std::uint64_t x = 0; x < w; ++x)
        for (std::uint64_t k = 0; k < c; ++k) {
          const auto v = static_cast<std::uint8_t>((i * 67 + y * 31 + x * 7 + k * 101) % 256);
          last[((i * h + y) * w + x) * c + k] = v;
          first[((i * c + k) * h + y) * w + x] = v;
        }
  {
    h5::File f(path, h5::File::Mode::create_truncate);
    h5::write_array(f.root(), "imgBrick", last, {n, h, w, c}, {"image", "y", "x", "channel"});
    h5::write_array(f.root(), "chw", first, {n, c, h, w}, {"image", "channel", "y", "x"});
    h5::write_array(f.root(), "bad", last, {n, h, w * c, 1, 1}, {"a", "b", "c", "d", "e"});
  }
  const auto brick = stimuli::open_stimulus_set(path.string() + ":/imgBrick");
  const auto chw = stimuli::open_stimulus_set(path.string() + ":/chw");
  ASSERT_EQ(brick->size(), n);
  for (std::size_t i : {0, 3, 1}) {
    const auto a = brick->load(i), b = chw->load(i);
    EXPECT_EQ(a.channels, 3);
    EXPECT_EQ(a.height, 5);
    EXPECT_EQ(a.width, 6);
    EXPECT_EQ(a.data, b.data) << i;
  }
  EXPECT_THROW(stimuli::open_stimulus_set(path.string() + ":/bad"), InputError);
  std::filesystem::remove(path);
}
