// The C++ preprocessing equals torchvision's tensor transforms on real decoded images
// (fixture: tests/fixtures/stimuli/gen_preprocess_fixture.py, Debian python3-torchvision).
#include <gtest/gtest.h>

#include <cmath>

#include "io/h5.hpp"
#include "stimuli/image.hpp"

using namespace lrm;

namespace {
const std::string kDir = std::string(LRM_SOURCE_DIR) + "/tests/fixtures/stimuli/";

void expect_matches_torchvision(const std::string& name) {
  h5::File f(kDir + "preprocess_expected.h5", h5::File::Mode::read);
  const auto g = f.root().group(name);
  const std::string file = *g.attr_string("file");
  stimuli::Preprocess p;  // ImageNet mean/std, 3 channels
  p.resize = static_cast<int>(*g.attr_number("resize"));
  p.crop = static_cast<int>(*g.attr_number("crop"));
  const auto out = stimuli::preprocess(stimuli::decode_image(kDir + file), p);
  const auto expected = h5::read_array<float>(f, "/" + name + "/expected");
  ASSERT_EQ(expected.shape, (std::vector<std::uint64_t>{3, static_cast<std::uint64_t>(p.crop),
                                                        static_cast<std::uint64_t>(p.crop)}));
  ASSERT_EQ(out.data.size(), expected.data.size());
  double max_err = 0;
  for (size_t i = 0; i < out.data.size(); ++i)
    max_err = std::max(max_err, static_cast<double>(std::abs(out.data[i] - expected.data[i])));
  EXPECT_LT(max_err, 1e-4) << name;
}
}  // namespace

TEST(Preprocess, LandscapeDownsampleEqualsTorchvision) {
  expect_matches_torchvision("landscape_rgb");
}
TEST(Preprocess, GreyPortraitEqualsTorchvision) { expect_matches_torchvision("portrait_grey"); }
TEST(Preprocess, UpsampleEqualsTorchvision) { expect_matches_torchvision("upsample_rgb"); }
TEST(Preprocess, OddCropEqualsTorchvision) { expect_matches_torchvision("odd_crop_rgb"); }

TEST(Decode, JpegPixelsCloseToLibjpeg) {
  h5::File f(kDir + "preprocess_expected.h5", h5::File::Mode::read);
  const auto expected = h5::read_array<std::uint8_t>(f, "/photo_rgb/decoded");
  const auto img = stimuli::decode_image(kDir + "photo_rgb.jpg");
  ASSERT_EQ(img.data.size(), expected.data.size());
  double mean_err = 0;
  for (size_t i = 0; i < img.data.size(); ++i)
    mean_err += std::abs(img.data[i] * 255.0 - expected.data[i]);
  mean_err /= img.data.size();
  EXPECT_LT(mean_err, 1.5);  // decoders differ only in IDCT/upsampling rounding
}

TEST(Decode, CorruptFileNamesTheFile) {
  try {
    stimuli::decode_image(kDir + "gen_preprocess_fixture.py");
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("gen_preprocess_fixture.py"), std::string::npos);
  }
}
