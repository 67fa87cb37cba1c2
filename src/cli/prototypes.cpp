// lrm prototypes: category prototypes (mean model output per category) stored for reuse.
#include "steering/prototypes.hpp"

#include <cstdio>

#include "cli/command.hpp"
#include "cli/model_options.hpp"
#include "cli/stimulus_options.hpp"
#include "common/error.hpp"
#include "io/output_path.hpp"
#include "model/checkpoint.hpp"
#include "model/lrm_net.hpp"
#include "model/metadata.hpp"

namespace lrm::cli {
namespace {

struct PrototypeArgs {
  steering::PrototypeOptions o;
  StimulusOptions stimuli;
  std::vector<int> passes;  // --passes: a list of pass indices elsewhere; one pass per file here
};

void run(PrototypeArgs& a, const Globals& g) {
  a.o.seed = g.seed;
  if (a.passes.size() > 1) throw SettingError("passes", "give one pass (one pass per file)");
  if (a.passes.size() == 1) a.o.pass = a.passes[0];
  io::check_output_is_not_an_input(a.o.out, {a.stimuli.spec, a.o.weights});
  auto model = model::load_model(a.o.model, a.o.weights, g.seed);
  auto set = a.stimuli.open();
  const auto r = steering::run_prototypes(
      model, *set, a.stimuli.for_model()(model::preprocess_preset(model)), a.o);
  if (!g.quiet)
    std::printf("prototypes of %zu categories (layer %s, pass %d, %lld units) -> %s\n",
                r.categories, r.layer.c_str(), r.pass, static_cast<long long>(r.units),
                a.o.out.c_str());
}

}  // namespace

void add_prototypes_command(CLI::App& app, const Globals& g) {
  auto a = std::make_shared<PrototypeArgs>();
  auto* cmd = app.add_subcommand(
      "prototypes",
      "Category prototypes: the mean output of a layer over every exemplar of each "
      "category, stored in /prototypes for lrm steer and lrm attend");
  add_model_options(cmd, a->o.model);
  cmd->add_option("--weights", a->o.weights, "Checkpoint; none: random weights from --seed");
  add_stimulus_options(cmd, a->stimuli, true, "");
  cmd->add_option("--layer", a->o.layer, "Layer (default: the model's last layer, its output)");
  cmd->add_option("--pass", a->o.pass, "Pass whose output is averaged")
      ->check(CLI::Range(0, model::kMaxPasses - 1))
      ->capture_default_str();
  cmd->add_option("--passes", a->passes, "The same as --pass, as the one-element list of passes")
      ->delimiter(',')
      ->check(CLI::Range(0, model::kMaxPasses - 1));
  cmd->add_option("--batch-size", a->o.batch_size, "Images per forward call")
      ->capture_default_str();
  cmd->add_option("--out", a->o.out, "Results file (HDF5)")->required();
  cmd->callback([a, &g] { run(*a, g); });
}

}  // namespace lrm::cli
