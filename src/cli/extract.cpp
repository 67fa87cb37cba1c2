// lrm extract: layer activations per pass (and steering condition) for a stimulus set, streamed
// into /activations/<layer>/pass<k>[/steer-<name>] (README "Activations").
#include "extract/extract.hpp"

#include <cstdio>

#include "cli/command.hpp"
#include "cli/model_options.hpp"
#include "cli/option_checks.hpp"
#include "cli/stimulus_options.hpp"
#include "common/mpi.hpp"
#include "io/output_path.hpp"

namespace lrm::cli {
namespace {

struct ExtractCommand {
  extract::ExtractOptions x;
  StimulusOptions stimuli;
  std::string passes = "0", strength = "1", pca_fit;
};

void add_steering_options(CLI::App* cmd, ExtractCommand& o) {
  cmd->add_option("--steer-source", o.x.steering.source,
                  "Source layer whose kept output steering replaces (e.g. classifier.6)");
  cmd->add_option("--steer-vector", o.x.steering.vector_spec,
                  "file.h5:/dataset: D or 1×D (one vector for all stimuli) or N×D (one row per "
                  "stimulus)");
  cmd->add_option("--steer-strength", o.strength,
                  "Gain α on σ−/σ+: a (both) or a-:a+ (negative, positive entries)")
      ->capture_default_str();
  cmd->add_option("--steer-mix", o.x.steering.mix, "Mixing weight w (kept ← w·v + (1−w)·kept)")
      ->check(finite_in(-std::numeric_limits<double>::max()))
      ->capture_default_str();
  cmd->add_flag("--steer-first-pass", o.x.steering.first_pass, "Also steer pass 0");
  cmd->add_option("--condition", o.x.conditions,
                  "A named steering condition, name=file.h5:/v[,alpha=A|alpha=NEG:POS][,mix=W] "
                  "(name=none: unsteered); repeat for several conditions in one file, written to "
                  "/activations/<layer>/pass<k>/steer-<name>");
}

void add_reduce_options(CLI::App* cmd, ExtractCommand& o) {
  cmd->add_option("--reduce", o.x.reduce,
                  "Reduce units as they are written: one reduction for all layers or "
                  "layer=reduction items (features.10=pca:100,classifier.5=none; a bare item "
                  "covers the layers not named): none, avgpool, maxpool (one unit per channel), "
                  "avgpool:HxW, maxpool:HxW, srp:K[:SEED] (sparse random projection, seed "
                  "default --seed), pca:K (with --pca-fit) or pca[:K] (with --pca-from)");
  cmd->add_option("--pca-fit", o.pca_fit,
                  "Stimulus set to fit pca on (same preprocessing as --stimuli); the fits are "
                  "stored under /pca of the output");
  cmd->add_option("--pca-from", o.x.pca_from,
                  "A file with stored pca fits (/pca: the output of a run with --pca-fit)");
}

void run_extract(ExtractCommand& o, const Globals& globals) {
  o.x.passes = extract::parse_passes(o.passes, "passes");
  if (o.strength.find(',') != std::string::npos && !globals.quiet)
    std::fprintf(stderr,
                 "lrm: note: --steer-strength a-,a+ is deprecated here; use --steer-strength "
                 "a-:a+\n");
  std::tie(o.x.steering.strength_neg, o.x.steering.strength_pos) =
      extract::parse_strength(o.strength, "steer-strength");
  std::vector<std::string> inputs{o.stimuli.spec,           o.x.weights, o.x.torchscript,
                                  o.x.steering.vector_spec, o.pca_fit,   o.x.pca_from.string()};
  for (const auto& c : o.x.conditions) inputs.push_back(c.substr(c.find('=') + 1));
  io::check_output_is_not_an_input(o.x.out, inputs);
  o.x.seed = globals.seed;
  o.x.stimuli = o.stimuli.spec;
  o.x.preprocessing = o.stimuli.for_model();
  auto set = o.stimuli.open();
  std::unique_ptr<stimuli::StimulusSet> fit_set;
  if (!o.pca_fit.empty()) {
    auto fit_options = o.stimuli;
    fit_options.spec = o.pca_fit;
    fit_options.split.clear();
    fit_options.categories.clear();
    fit_set = fit_options.open();
    o.x.pca_fit = o.pca_fit;
    o.x.pca_fit_set = fit_set.get();
  }
  const auto summary = extract::run_extraction(o.x, *set);
  if (globals.quiet || mpi::rank() != 0) return;
  const auto out = o.x.out.string();
  if (summary.ranks > 1)
    std::fprintf(stderr, "lrm extract: joined the parts of %d MPI ranks into %s in %.2f s\n",
                 summary.ranks, out.c_str(), summary.join_seconds);
  if (summary.already_complete)
    std::fprintf(stderr, "lrm extract: %s is already complete; nothing to resume\n", out.c_str());
  if (summary.nothing_to_resume)
    std::fprintf(stderr,
                 "lrm extract: no %s%s.partial to resume; started from the first stimulus\n",
                 out.c_str(), summary.ranks > 1 ? ".rank0" : "");
}

}  // namespace

void add_extract_command(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand(
      "extract",
      "Write layer activations per pass to /activations/<layer>/pass<k> (stimuli × units, "
      "float32), batch by batch; --resume continues an interrupted run");
  auto o = std::make_shared<ExtractCommand>();
  add_model_options(cmd, o->x.model);
  cmd->add_option("--weights", o->x.weights,
                  "Checkpoint: a published .pth (with --model) or a suite checkpoint; default: "
                  "random weights from --seed");
  cmd->add_option("--torchscript", o->x.torchscript,
                  "A chain-style TorchScript model (torch.jit.script/trace of e.g. torchvision's "
                  "AlexNet) instead of --model; --feedback and --motif add pathways");
  add_stimulus_options(cmd, o->stimuli, true, "model");
  cmd->add_option("--layers", o->x.layers,
                  "Layer names (features.8,classifier.6), 'all' (every layer output and every "
                  "feedback destination's <dest>:pre and <dest>:F)")
      ->required()
      ->delimiter(',');
  cmd->add_option("--passes", o->passes, "Passes to write, e.g. 0,1,2")->capture_default_str();
  add_steering_options(cmd, *o);
  add_reduce_options(cmd, *o);
  cmd->add_option("--batch-size", o->x.batch_size, "Images per batch (bounds the memory)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_flag("--resume", o->x.resume,
                "Continue <out>.partial of an interrupted run after its last complete batch");
  cmd->add_option("--out", o->x.out, "Output HDF5 file")->required();
  cmd->callback([o, &globals] { run_extract(*o, globals); });
}

}  // namespace lrm::cli
