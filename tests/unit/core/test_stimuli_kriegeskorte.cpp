#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "stimuli/kriegeskorte_import.hpp"

using namespace lrm;

namespace {
const auto mat = std::filesystem::path(LRM_SOURCE_DIR) /
                 "neural_data/kriegeskorte2008/Kriegeskorte_Neuron2008_supplementalData.mat";
}

TEST(StimuliKriegeskorte, RgbAndGrayscaleInRdmOrder) {
  const auto rgb = stimuli::read_kriegeskorte_mat(mat, false);
  EXPECT_EQ(rgb.shape, (std::vector<std::uint64_t>{92, 3, 175, 175}));
  EXPECT_EQ(rgb.ids[0], "kriegeskorte92-001");
  EXPECT_EQ(rgb.ids[91], "kriegeskorte92-092");
  EXPECT_EQ(rgb.categories[0], "human bodypart");
  EXPECT_EQ(rgb.categories[91], "artificial inanimate");
  // Image 6 (index 5), pixel (y 87, x 80) is RGB (175, 120, 139) in scipy.io.loadmat.
  const std::uint64_t plane = 175 * 175, at = 87 * 175 + 80;
  EXPECT_EQ(rgb.pixels[(5 * 3 + 0) * plane + at], 175);
  EXPECT_EQ(rgb.pixels[(5 * 3 + 2) * plane + at], 139);
  const auto gray = stimuli::read_kriegeskorte_mat(mat, true);
  EXPECT_EQ(gray.shape, (std::vector<std::uint64_t>{92, 175, 175}));
  EXPECT_EQ(gray.pixels[5 * plane + at], 139);  // round(.299*175 + .587*120 + .114*139)
  EXPECT_THROW(stimuli::read_kriegeskorte_mat("missing.mat", false), InputError);
}
