#include "model/info.hpp"

#include <algorithm>
#include <chrono>

#include "common/error.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"

namespace lrm::model {

std::string model_info(const std::string& model, const std::string& weights, int height,
                       int width) {
  std::string m = model, w = weights;
  // A suite checkpoint in place of the model name: `model` is then the spec's remainder.
  const auto name = model.substr(0, model.find(';'));
  const auto presets = preset_names(), backbones = backbone_names();
  const bool named = std::find(presets.begin(), presets.end(), name) != presets.end() ||
                     std::find(backbones.begin(), backbones.end(), name) != backbones.end();
  if (!named && w.empty() && !name.empty() && std::filesystem::exists(name)) {
    w = name;
    m = model.substr(name.size());
  }
  // The description runs one image through the model; its layers' outputs grow with the area.
  constexpr std::int64_t kMaxSide = 4096;
  if (height > kMaxSide || width > kMaxSide)
    throw SettingError("input-size", std::to_string(height) + "x" + std::to_string(width) +
                                         " is larger than the " + std::to_string(kMaxSide) + "x" +
                                         std::to_string(kMaxSide) + " pixels a description allows");
  auto loaded = load_model(m, w, 0);
  auto probe = loaded.net->probe();
  if (height > 0) probe[1] = height;
  if (width > 0) probe[2] = width;
  return "model: " + loaded.description + "\narchitecture: " + loaded.architecture.to_string() +
         "\n" + describe(*loaded.net, probe);
}

double benchmark_forward(const std::string& model, int batch, int passes, int repeats) {
  if (batch < 1 || passes < 1 || repeats < 1)
    throw InputError("benchmark: batch, passes and repeats must be ≥ 1");
  auto loaded = load_model(model, "", 0);
  auto shape = loaded.net->probe();
  shape.insert(shape.begin(), batch);
  const auto device = device_of(*loaded.net);
  auto x = torch::randn(shape).to(device);
  torch::NoGradGuard no_grad;
  loaded.net->forward(x, passes);
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    synchronize(device);
    auto t0 = std::chrono::steady_clock::now();
    loaded.net->forward(x, passes);
    synchronize(device);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace lrm::model
