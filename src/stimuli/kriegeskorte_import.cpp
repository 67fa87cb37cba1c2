#include "stimuli/kriegeskorte_import.hpp"

#include <cmath>
#include <cstdio>
#include <map>

#include "common/error.hpp"
#include "io/mat.hpp"

namespace lrm::stimuli {

ImageTable read_kriegeskorte_mat(const std::filesystem::path& mat, bool grayscale) {
  const auto images = io::read_mat_images(mat, "stimuli_92objs", "image", "category");
  if (images.channels != 3)
    throw InputError(mat.string() + ": stimuli_92objs images are not RGB (" +
                     std::to_string(images.channels) + " channels)");
  ImageTable t;
  const std::uint64_t n = images.count, h = images.height, w = images.width, plane = h * w;
  std::map<std::string, std::int64_t> label_of;
  for (std::uint64_t i = 0; i < n; ++i) {
    char id[48];
    std::snprintf(id, sizeof id, "kriegeskorte92-%03llu", static_cast<unsigned long long>(i + 1));
    t.ids.emplace_back(id);
    const std::string& cat = images.labels[i];
    t.categories.push_back(cat);
    t.labels.push_back(
        label_of.emplace(cat, static_cast<std::int64_t>(label_of.size())).first->second);
  }
  t.pixels.resize(n * plane * (grayscale ? 1 : 3));
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint8_t* src = images.pixels.data() + i * plane * 3;  // y, x, channel
    for (std::uint64_t k = 0; k < plane; ++k) {
      const std::uint8_t r = src[k * 3], g = src[k * 3 + 1], b = src[k * 3 + 2];
      if (grayscale) {
        t.pixels[i * plane + k] =
            static_cast<std::uint8_t>(std::lround(0.299 * r + 0.587 * g + 0.114 * b));
      } else {
        for (std::uint64_t c = 0; c < 3; ++c) t.pixels[(i * 3 + c) * plane + k] = src[k * 3 + c];
      }
    }
  }
  t.shape =
      grayscale ? std::vector<std::uint64_t>{n, h, w} : std::vector<std::uint64_t>{n, 3, h, w};
  t.attributes = {{"source",
                   "rsatoolbox demos/92imageData/Kriegeskorte_Neuron2008_supplementalData.mat "
                   "(stimuli_92objs), MIT licence"},
                  {"citation",
                   "Kriegeskorte, Mur, Ruff, Kiani, Bodurka, Esteky, Tanaka & Bandettini (2008). "
                   "Matching categorical "
                   "object representations in inferior temporal cortex of man and monkey. Neuron "
                   "60(6), 1126-1141."},
                  {"order", "as in the published 92x92 RDMs (neural_data/kriegeskorte2008)"},
                  {"color", grayscale ? "grayscale (BT.601 luma)" : "RGB"}};
  return t;
}

}  // namespace lrm::stimuli
