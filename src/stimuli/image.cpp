#include "stimuli/image.hpp"

#include <cstring>

// stb_image copies zero bytes into a null buffer for an empty PNG data chunk, which memcpy does
// not allow (undefined behaviour); its copies go through this wrapper.
static void* stb_memcpy(void* dst, const void* src, std::size_t n) {
  return n == 0 ? dst : std::memcpy(dst, src, n);
}
#define memcpy stb_memcpy
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#undef memcpy

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>

#include "common/error.hpp"

namespace lrm::stimuli {
namespace {

// One output position's contributing input range and weights, as torch's
// _compute_indices_weights_aa computes them for the bilinear filter (align_corners = false).
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<double> weights;  // max_taps per output
  int max_taps = 0;
};

Taps antialias_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double support = scale >= 1.0 ? scale : 1.0;
  const double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
  Taps t;
  t.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(static_cast<size_t>(out_size) * t.max_taps, 0.0);
  for (int i = 0; i < out_size; ++i) {
    const double center = scale * (i + 0.5);
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xsize = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    double total = 0;
    double* w = &t.weights[static_cast<size_t>(i) * t.max_taps];
    for (int j = 0; j < xsize && j < t.max_taps; ++j) {
      const double x = std::abs((j + xmin - center + 0.5) * invscale);
      w[j] = x < 1.0 ? 1.0 - x : 0.0;
      total += w[j];
    }
    for (int j = 0; j < xsize && j < t.max_taps; ++j) w[j] = total != 0 ? w[j] / total : 0.0;
    t.first[i] = xmin;
    t.count[i] = std::min(xsize, t.max_taps);
  }
  return t;
}

}  // namespace

namespace {
// Interleaved 8-bit pixels with `stride` values per pixel, of which the first `keep` are used.
Image from_interleaved_u8(const unsigned char* pixels, int height, int width, int stride,
                          int keep) {
  Image img;
  img.channels = keep;
  img.height = height;
  img.width = width;
  img.data.resize(static_cast<size_t>(keep) * height * width);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < keep; ++c)
        img.at(c, y, x) = pixels[(static_cast<size_t>(y) * width + x) * stride + c] / 255.0f;
  return img;
}

// The bytes stb_image reads, read as stb reads them: past the end every read gives 0 and a skip
// stops at the end.
class JpegStream {
 public:
  explicit JpegStream(const std::string& b) : b_(b) {}
  bool eof() const { return at_ >= b_.size(); }
  int get8() { return eof() ? 0 : static_cast<unsigned char>(b_[at_++]); }
  int get16() {
    const int high = get8();
    return (high << 8) | get8();
  }
  void skip(long n) { at_ = n < 0 ? b_.size() : std::min(b_.size(), at_ + n); }
  // stbi__get_marker: 0xFF (no marker) unless the next byte is 0xFF; fill bytes are skipped.
  int marker() {
    int x = get8();
    if (x != 0xFF) return kNoMarker;
    while (x == 0xFF) x = get8();
    return x;
  }
  static constexpr int kNoMarker = 0xFF;

 private:
  const std::string& b_;
  std::size_t at_ = 0;
};

// A DHT segment as stbi__process_marker reads it: tables until its length is used up, each read
// whole even past the segment's end. stb (Debian's 2022 version) trusts a table's symbol count
// and writes past its 256-entry arrays when the count is larger: such a table is refused here.
// Returns whether stb goes on after the segment.
bool check_dht(JpegStream& s, const std::string& what) {
  int left = s.get16() - 2;
  while (left > 0) {
    const int q = s.get8();
    if ((q >> 4) > 1 || (q & 15) > 3) return false;
    int count = 0;
    for (int i = 0; i < 16; ++i) count += s.get8();
    if (count > 256)
      throw InputError("cannot decode image " + what + ": corrupt JPEG (a Huffman table of " +
                       std::to_string(count) + " codes, at most 256)");
    s.skip(count);
    left -= 17 + count;
  }
  return left == 0;
}

// stbi__process_marker for the segments that may come before and between scans; returns whether
// stb accepts the segment and goes on.
bool skip_segment(JpegStream& s, int marker, const std::string& what) {
  if (marker == 0xC4) return check_dht(s, what);
  if (marker == 0xDD) {  // DRI
    if (s.get16() != 4) return false;
    s.skip(2);
    return true;
  }
  if (marker == 0xDB) {  // DQT: 8- or 16-bit tables until the length is used up
    int left = s.get16() - 2;
    while (left > 0) {
      const int q = s.get8();
      if ((q >> 4) > 1 || (q & 15) > 3) return false;
      s.skip((q >> 4) ? 128 : 64);
      left -= (q >> 4) ? 129 : 65;
    }
    return left == 0;
  }
  if ((marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE) {  // APPn, COM
    const int length = s.get16();
    if (length < 2) return false;
    s.skip(length - 2);
    return true;
  }
  return false;
}

// The marker after a scan's entropy-coded data: stb's decoder stops at the first 0xFF not
// followed by a stuffed 0 (restart markers continue the scan). Where the decoder stops early, stb
// reads on to the next 0xFF, which is the same marker or one stb refuses.
int marker_after_scan(JpegStream& s) {
  while (!s.eof()) {
    if (s.get8() != 0xFF) continue;
    int c = s.get8();
    while (c == 0xFF) c = s.get8();
    if (c != 0 && !(c >= 0xD0 && c <= 0xD7)) return c;
  }
  return JpegStream::kNoMarker;
}

// Follows stb_image's JPEG reader (stbi__decode_jpeg_header and stbi__decode_jpeg_image) through
// the same bytes to every DHT segment it would read, and checks each there. Where stb refuses the
// file the walk stops; where stb's path depends on decoding the walk takes every path it could.
void check_jpeg_huffman_tables(const std::string& b, const std::string& what) {
  JpegStream s(b);
  if (s.marker() != 0xD8) return;  // not a JPEG to stb
  const auto is_sof = [](int m) { return m == 0xC0 || m == 0xC1 || m == 0xC2; };
  int m = s.marker();
  while (!is_sof(m)) {  // the header: stb skips junk between segments here
    if (!skip_segment(s, m, what)) return;
    m = s.marker();
    while (m == JpegStream::kNoMarker) {
      if (s.eof()) return;
      m = s.marker();
    }
  }
  const int frame = s.get16();
  if (frame < 11) return;
  s.skip(frame - 2);
  for (m = s.marker(); m != 0xD9;) {
    if (m == 0xDA) {  // start of scan: its header, then the entropy-coded data
      const int length = s.get16();
      if (length < 8) return;
      s.skip(length - 2);
      m = marker_after_scan(s);
      continue;
    }
    if (m == 0xDC) {  // DNL
      if (s.get16() != 4) return;
      s.skip(2);
    } else if (!skip_segment(s, m, what)) {
      return;
    }
    m = s.marker();
  }
}

// The file's first `limit` bytes (all of it by default).
std::string read_bytes(const std::filesystem::path& path,
                       std::size_t limit = std::numeric_limits<std::size_t>::max()) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes;
  char chunk[1 << 16];
  while (bytes.size() < limit && in.read(chunk, sizeof chunk).gcount() > 0)
    bytes.append(chunk, static_cast<std::size_t>(in.gcount()));
  if (bytes.size() > limit) bytes.resize(limit);
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw InputError("image " + path.string() + " is larger than 2 GiB");
  return bytes;
}

bool header_readable(const std::string& bytes, const std::string& what) {
  check_jpeg_huffman_tables(bytes, what);
  int w = 0, h = 0, n = 0;
  return stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                               static_cast<int>(bytes.size()), &w, &h, &n) != 0;
}

}  // namespace

std::string image_problem(const std::filesystem::path& path, bool decode_pixels) {
  if (!decode_pixels) {
    // The header is in the first 64 KiB unless large metadata segments come first.
    if (header_readable(read_bytes(path, 1 << 16), path.string()) ||
        header_readable(read_bytes(path), path.string()))
      return "";
    return stbi_failure_reason();
  }
  const std::string bytes = read_bytes(path);
  if (!header_readable(bytes, path.string())) return stbi_failure_reason();
  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                                static_cast<int>(bytes.size()), &w, &h, &n, 0);
  if (pixels == nullptr) return stbi_failure_reason();
  stbi_image_free(pixels);
  return "";
}

Image decode_image(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw InputError("image " + path.string() + " does not exist");
  const std::string bytes = read_bytes(path);
  check_jpeg_huffman_tables(bytes, path.string());
  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                                static_cast<int>(bytes.size()), &w, &h, &n, 0);
  if (pixels == nullptr)
    throw InputError("cannot decode image " + path.string() + ": " + stbi_failure_reason());
  // Grey+alpha and RGBA: the alpha channel is dropped.
  const int keep = (n == 2) ? 1 : std::min(n, 3);
  Image img = from_interleaved_u8(pixels, h, w, n, keep);
  stbi_image_free(pixels);
  return img;
}

Image resize(const Image& in, int height, int width) {
  if (in.height == height && in.width == width) return in;
  const Taps th = antialias_taps(in.height, height);
  const Taps tw = antialias_taps(in.width, width);
  // Horizontal pass, then vertical, in double for accuracy.
  std::vector<double> tmp(static_cast<size_t>(in.channels) * in.height * width);
  for (int c = 0; c < in.channels; ++c)
    for (int y = 0; y < in.height; ++y)
      for (int x = 0; x < width; ++x) {
        const double* w = &tw.weights[static_cast<size_t>(x) * tw.max_taps];
        double s = 0;
        for (int j = 0; j < tw.count[x]; ++j) s += w[j] * in.at(c, y, tw.first[x] + j);
        tmp[(static_cast<size_t>(c) * in.height + y) * width + x] = s;
      }
  Image out;
  out.channels = in.channels;
  out.height = height;
  out.width = width;
  out.data.resize(static_cast<size_t>(in.channels) * height * width);
  for (int c = 0; c < in.channels; ++c)
    for (int y = 0; y < height; ++y) {
      const double* w = &th.weights[static_cast<size_t>(y) * th.max_taps];
      for (int x = 0; x < width; ++x) {
        double s = 0;
        for (int j = 0; j < th.count[y]; ++j)
          s += w[j] * tmp[(static_cast<size_t>(c) * in.height + th.first[y] + j) * width + x];
        out.at(c, y, x) = static_cast<float>(s);
      }
    }
  return out;
}

Image resize_short_side(const Image& in, int size) {
  // torchvision's _compute_resized_output_size for an int size.
  const bool portrait = in.width <= in.height;
  const int short_side = portrait ? in.width : in.height;
  const int long_side = portrait ? in.height : in.width;
  const int new_long = static_cast<int>(static_cast<long long>(size) * long_side / short_side);
  return portrait ? resize(in, new_long, size) : resize(in, size, new_long);
}

Image center_crop(const Image& in, int height, int width) {
  if (height > in.height || width > in.width)
    throw InputError("centre crop " + std::to_string(height) + "x" + std::to_string(width) +
                     " is larger than the image (" + std::to_string(in.height) + "x" +
                     std::to_string(in.width) + ")");
  // Python's round() rounds half to even; nearbyint does the same in the default mode.
  const int top = static_cast<int>(std::nearbyint((in.height - height) / 2.0));
  const int left = static_cast<int>(std::nearbyint((in.width - width) / 2.0));
  Image out;
  out.channels = in.channels;
  out.height = height;
  out.width = width;
  out.data.resize(static_cast<size_t>(in.channels) * height * width);
  for (int c = 0; c < in.channels; ++c)
    for (int y = 0; y < height; ++y)
      std::copy_n(&in.data[(static_cast<size_t>(c) * in.height + top + y) * in.width + left], width,
                  &out.at(c, y, 0));
  return out;
}

Image to_channels(const Image& in, int channels) {
  if (in.channels == channels) return in;
  Image out;
  out.channels = channels;
  out.height = in.height;
  out.width = in.width;
  const size_t plane = static_cast<size_t>(in.height) * in.width;
  out.data.resize(plane * channels);
  if (channels == 3 && in.channels == 1) {
    for (int c = 0; c < 3; ++c) std::copy_n(in.data.begin(), plane, out.data.begin() + c * plane);
  } else if (channels == 1 && in.channels == 3) {
    // torchvision's rgb_to_grayscale weights.
    for (size_t i = 0; i < plane; ++i)
      out.data[i] =
          0.2989f * in.data[i] + 0.587f * in.data[plane + i] + 0.114f * in.data[2 * plane + i];
  } else {
    throw InputError("cannot convert a " + std::to_string(in.channels) + "-channel image to " +
                     std::to_string(channels) + " channels");
  }
  return out;
}

Preprocess Preprocess::preset(const std::string& name) {
  Preprocess p;
  if (name == "imagenet") return p;
  if (name == "imagenet-composite") {
    p.crop = 256;
    return p;
  }
  if (name == "mnist") {
    p.resize = 0;
    p.crop = 0;
    p.channels = 1;
    p.mean = {0.1307f};
    p.std = {0.3081f};
    return p;
  }
  if (name == "none") {
    p.resize = 0;
    p.crop = 0;
    p.mean = {0.f, 0.f, 0.f};
    p.std = {1.f, 1.f, 1.f};
    return p;
  }
  throw SettingError("preprocess", "unknown preset '" + name +
                                       "' (use imagenet, imagenet-composite, mnist or none)");
}

Image preprocess(const Image& in, const Preprocess& p) {
  Image img = p.resize > 0 ? resize_short_side(in, p.resize) : in;
  if (p.crop > 0) img = center_crop(img, p.crop, p.crop);
  img = to_channels(img, p.channels);
  if (p.mean.size() != static_cast<size_t>(p.channels) ||
      p.std.size() != static_cast<size_t>(p.channels))
    throw InputError("normalisation needs one mean and one std per channel (" +
                     std::to_string(p.channels) + ")");
  const size_t plane = static_cast<size_t>(img.height) * img.width;
  for (int c = 0; c < img.channels; ++c)
    for (size_t i = 0; i < plane; ++i)
      img.data[c * plane + i] = (img.data[c * plane + i] - p.mean[c]) / p.std[c];
  return img;
}

}  // namespace lrm::stimuli
