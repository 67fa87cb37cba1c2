// lrm model: describe the LRM networks (presets and checkpoints).
#include <cstdio>

#include "cli/command.hpp"
#include "cli/deprecation.hpp"
#include "cli/model_options.hpp"
#include "common/error.hpp"
#include "model/device.hpp"
#include "model/info.hpp"

namespace lrm::cli {

void add_model_command(CLI::App& app, const Globals& globals) {
  auto* model = app.add_subcommand("model", "Describe LRM networks");
  model->require_subcommand(1);
  auto* info = model->add_subcommand("info",
                                     "Every named module with its type, output shape and "
                                     "parameter count, the feedback pathways and parameter counts "
                                     "of a preset, backbone or checkpoint");
  struct Options {
    std::string model, weights, input_size;
  };
  auto o = std::make_shared<Options>();
  info->add_option("model", o->model,
                   "Preset (alexnet-lrm1..3, mnist-lrm, mnist-lrm-additive, mnist-ff), backbone "
                   "(alexnet, vgg11..vgg19[_bn], resnet18..resnet152, cornet_z, cornet_s) or a "
                   "suite checkpoint")
      ->required();
  add_feedback_options(info, o->model, /*num_classes=*/true);
  info->add_option("--weights", o->weights,
                   "Checkpoint to load: a published LRM .pth, a torchvision or CORnet state dict "
                   "(its feedback parameters start from the seed), or a suite checkpoint");
  info->add_option("--input-size", o->input_size,
                   "Input size: N (N×N) or HxW, e.g. 224 or 224x448 (default: the model's)");
  info->callback([o] {
    int h = 0, w = 0;
    if (!o->input_size.empty()) {
      auto x = o->input_size.find('x');
      try {
        h = std::stoi(o->input_size.substr(0, x));
        w = x == std::string::npos ? h : std::stoi(o->input_size.substr(x + 1));
      } catch (const std::exception&) {
        h = 0;
      }
      if (h <= 0 || w <= 0)
        throw InputError("--input-size: '" + o->input_size + "' is not N or HxW");
    }
    std::fputs(model::model_info(o->model, o->weights, h, w).c_str(), stdout);
  });

  auto* bench =
      model->add_subcommand("bench", "Time no-grad forward calls (random weights and inputs)");
  struct BenchOptions {
    std::string model = "alexnet-lrm3";
    int batch = 16, passes = 2, repeats = 5;
  };
  auto b = std::make_shared<BenchOptions>();
  bench->add_option("model", b->model, "Preset or backbone")->capture_default_str();
  add_feedback_options(bench, b->model, /*num_classes=*/true);
  bench->add_option("--batch-size", b->batch, "Images per call")->capture_default_str();
  bench->add_option("--num-passes", b->passes, "Passes per call")->capture_default_str();
  add_deprecated_alias(bench, "--passes", b->passes);
  bench->add_option("--repeats", b->repeats, "Timed calls (the median is printed)")
      ->capture_default_str();
  bench->callback([b, bench, &globals] {
    note_deprecated(bench, "--passes", "--passes N", "--num-passes N", globals);
    const double s = model::benchmark_forward(b->model, b->batch, b->passes, b->repeats);
    std::printf("%s batch %d, %d passes: %.4f s per call (median of %d, %s)\n", b->model.c_str(),
                b->batch, b->passes, s, b->repeats, model::describe(model::compute()).c_str());
  });
}

}  // namespace lrm::cli
