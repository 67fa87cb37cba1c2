#pragma once
// The options every model command shares: --model, --feedback, --motif (and --num-classes where a
// command has no own). They are folded into the model text the library reads (model::ModelSpec:
// "name;feedback=src:dst,...;motif=...;classes=N"), so a command passes one string on and its
// provenance records the whole model.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace lrm::cli {

inline constexpr const char* kModelHelp =
    "Preset (alexnet-lrm1..3, mnist-lrm, mnist-lrm-additive, mnist-ff) or backbone (alexnet, "
    "vgg11..vgg19[_bn], resnet18..resnet152, cornet_z, cornet_s); optional for a suite checkpoint";

// --feedback and --motif, appended to `model` once parsed. CLI11 runs option callbacks in the
// order the options were added, so these come after the option that sets `model`.
inline void add_feedback_options(CLI::App* cmd, std::string& model, bool num_classes = false) {
  cmd->add_option_function<std::vector<std::string>>(
         "--feedback",
         [&model](const std::vector<std::string>& items) {
           std::string joined;
           for (const auto& i : items) joined += (joined.empty() ? "" : ",") + i;
           model += ";feedback=" + joined;
         },
         "Feedback pathways source:destination[,source:destination...] between any named "
         "modules (e.g. fc:layer4.0.conv1,layer4.1:conv1), or a named set of alexnet (lrm1, "
         "lrm2, lrm3)")
      ->delimiter(',');
  cmd->add_option_function<std::string>(
         "--motif", [&model](const std::string& m) { model += ";motif=" + m; },
         "How feedback modulates a destination's output y: multiplicative relu(y + y*F) "
         "(default) or additive relu(y + F)")
      ->check(CLI::IsMember({"multiplicative", "additive"}));
  if (num_classes)
    cmd->add_option_function<long long>(
           "--num-classes", [&model](long long n) { model += ";classes=" + std::to_string(n); },
           "Outputs of the model's head (default: the checkpoint's, else the backbone's)")
        ->check(CLI::Range(1LL, 1LL << 24));
}

// --model with the shared help, then --feedback and --motif (and --num-classes).
inline CLI::Option* add_model_options(CLI::App* cmd, std::string& model, bool num_classes = true) {
  auto* option = cmd->add_option("--model", model, kModelHelp);
  add_feedback_options(cmd, model, num_classes);
  return option;
}

}  // namespace lrm::cli
