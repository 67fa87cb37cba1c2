#pragma once
// Decoded images and torchvision-equivalent preprocessing.
#include <filesystem>
#include <string>
#include <vector>

namespace lrm::stimuli {

// A float image in channel-major (C×H×W) order.
struct Image {
  int channels = 0, height = 0, width = 0;
  std::vector<float> data;
  float& at(int c, int y, int x) { return data[(static_cast<size_t>(c) * height + y) * width + x]; }
  float at(int c, int y, int x) const {
    return data[(static_cast<size_t>(c) * height + y) * width + x];
  }
};

// Why an image file cannot be read, or "" when it can: its header (size, channels) only, or with
// `decode_pixels` its pixel data too (truncated or corrupt data), so --skip-bad can skip what
// decoding later would refuse. A corrupt JPEG Huffman table is an InputError naming the file.
std::string image_problem(const std::filesystem::path& path, bool decode_pixels);
// Decodes a JPEG or PNG (or any format stb reads) to values in [0, 1]; throws InputError naming
// the file when it is missing, corrupt or not an image.
Image decode_image(const std::filesystem::path& path);

struct Preprocess {
  int resize = 256;  // short side after resizing (antialiased bilinear); 0 keeps the size
  int crop = 224;    // centre crop to crop×crop; 0 keeps the size
  int channels = 3;  // 3: grey is replicated; 1: colour is converted to luminance (ITU-R 601-2)
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> std{0.229f, 0.224f, 0.225f};
  // Named presets: "imagenet" (the published models), "imagenet-composite" (crop 256),
  // "mnist" (28×28, 1 channel, mean .1307, std .3081), "none" (values in [0, 1] as they are).
  static Preprocess preset(const std::string& name);
};

// torchvision's Resize(size, antialias=True) on float tensors (resize of the shorter side).
Image resize_short_side(const Image& in, int size);
// Resize to an exact height×width (antialiased bilinear, as torch's _upsample_bilinear2d_aa).
Image resize(const Image& in, int height, int width);
Image center_crop(const Image& in, int height, int width);
Image to_channels(const Image& in, int channels);
// resize → centre crop → channels → normalise, in torchvision's order.
Image preprocess(const Image& in, const Preprocess& p);

}  // namespace lrm::stimuli
