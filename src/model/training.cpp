#include "model/training.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "model/labelled_data.hpp"
#include "model/metadata.hpp"

namespace lrm::model {
namespace {

// One-cycle schedule: cosine rise from 1e-4·peak to the peak over `warmup` of the steps, then
// cosine decay to 0.
double one_cycle(double peak, double warmup, std::int64_t step, std::int64_t total) {
  const double rise = std::max(1.0, warmup * static_cast<double>(total));
  const double start = peak * 1e-4;
  const double t = static_cast<double>(step);
  if (t < rise) return peak + (start - peak) * (1 + std::cos(M_PI * t / rise)) / 2;
  const double fall = std::max(1.0, static_cast<double>(total) - rise);
  return peak * (1 + std::cos(M_PI * std::min(1.0, (t - rise) / fall))) / 2;
}

void check_options(const TrainOptions& o) {
  if (o.out.empty()) throw SettingError("out", "give the checkpoint path");
  if (o.epochs < 1) throw SettingError("epochs", "must be at least 1");
  if (o.batch_size < 1) throw SettingError("batch-size", "must be at least 1");
  if (o.passes < 1 || o.passes > kMaxPasses)
    throw SettingError("num-passes", "must lie in 1.." + std::to_string(kMaxPasses));
  if (!(o.lr > 0)) throw SettingError("lr", "must be positive");
  if (!(o.warmup >= 0 && o.warmup <= 1)) throw SettingError("warmup", "must be in [0, 1]");
  if (!(o.momentum >= 0 && o.momentum <= 1)) throw SettingError("momentum", "must be in [0, 1]");
  if (!(o.weight_decay >= 0 && std::isfinite(o.weight_decay)))
    throw SettingError("weight-decay", "must be finite and at least 0");
  if (o.label_smoothing < 0 || o.label_smoothing >= 1)
    throw SettingError("label-smoothing", "must be in [0, 1)");
  if (o.num_classes < 0) throw SettingError("num-classes", "must be at least 0");
}

// A training run: the network, the labels of its set and the optimizer state.
struct Run {
  Architecture arch;
  LrmNet net{nullptr};
  std::string preprocess;             // preset recorded in the checkpoint
  stimuli::Preprocess preprocessing;  // what it gives, with the size and normalisation options
  std::vector<std::string> classes;   // in output order
  std::vector<std::int64_t> labels;   // class index per image of the set
  int passes = 1;
  std::vector<std::pair<std::string, torch::Tensor>> params;
  std::vector<torch::Tensor> momentum;
  int start_epoch = 0;
  int resumed_after = -1;
};

Run plan(const TrainOptions& o, const stimuli::StimulusSet& set) {
  Run r;
  r.arch = preset(o.model);
  r.classes = training_class_order(set.category_names());
  const auto categories = static_cast<std::int64_t>(r.classes.size());
  const auto outputs = o.num_classes > 0 ? o.num_classes : categories;
  if (outputs < categories)
    throw SettingError("num-classes", std::to_string(outputs) + " outputs cannot label the " +
                                          std::to_string(categories) + " categories of " +
                                          set.source());
  if (outputs != default_num_classes(r.arch.backbone)) r.arch.num_classes = outputs;
  torch::manual_seed(o.seed);
  r.net = build(r.arch);
  r.net->to(compute().device);
  // Without feedback pathways every pass repeats pass 0, so only pass 0 is trained.
  r.passes = r.arch.pathways.empty() ? 1 : o.passes;
  r.preprocess = o.preprocess.empty() || o.preprocess == "model"
                     ? backbone_preprocess(r.arch.backbone)
                     : o.preprocess;
  r.preprocessing =
      o.preprocessing ? o.preprocessing(r.preprocess) : stimuli::Preprocess::preset(r.preprocess);
  r.labels = class_labels(set, r.classes);
  for (const auto& p : r.net->named_parameters()) {
    r.params.emplace_back(p.key(), p.value());
    r.momentum.push_back(torch::zeros_like(p.value()));
  }
  return r;
}

// Continues the checkpoint at `out` (same architecture and classes) after its last epoch.
void resume(Run& r, const TrainOptions& o) {
  if (!o.resume) return;
  r.resumed_after = 0;
  if (!std::filesystem::exists(o.out)) return;
  auto ck = read_checkpoint(o.out);
  if (!ck.architecture || ck.architecture->to_string() != r.arch.to_string())
    throw SettingError("resume",
                       "checkpoint " + o.out.string() + " is not a " + o.model + " training run");
  if (ck.meta[kClassesKey] != join_class_names(r.classes))
    throw SettingError("resume",
                       "checkpoint " + o.out.string() + " was trained on other categories");
  load_state_dict(*r.net, ck.state, o.out.string());
  for (std::size_t i = 0; i < r.params.size(); ++i) {
    auto it = ck.extra.find("momentum." + r.params[i].first);
    if (it == ck.extra.end())
      throw SettingError("resume", "checkpoint " + o.out.string() + " has no optimizer state");
    r.momentum[i].copy_(it->second);
  }
  r.start_epoch = std::stoi(ck.meta["epoch"]);
  r.resumed_after = r.start_epoch;
}

// SGD with momentum and weight decay (PyTorch's formulation).
void sgd_step(Run& r, const TrainOptions& o, double lr) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < r.params.size(); ++i) {
    auto& p = r.params[i].second;
    if (!p.grad().defined()) continue;
    auto g = p.grad() + o.weight_decay * p;
    r.momentum[i].mul_(o.momentum).add_(g);
    p.add_(r.momentum[i], -lr);
  }
}

// The epoch's batches: a seeded shuffle of the set, streamed by a loader thread (augmented with
// draws seeded by the epoch and the image's place in it).
stimuli::BatchStream epoch_batches(const Run& r, const TrainOptions& o, int epoch,
                                   const stimuli::StimulusSet& set) {
  std::vector<std::size_t> order(set.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(o.seed * 7919 + static_cast<std::uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return stimuli::BatchStream(
      set, stimuli::cut_batches(order, o.batch_size),
      stimuli::stream_options(r.preprocessing, o.augmentation,
                              stimuli::draw_seed(o.seed, static_cast<std::uint64_t>(epoch), 0)));
}

EpochRecord run_epoch(Run& r, const TrainOptions& o, int epoch, const stimuli::StimulusSet& set) {
  const auto n = static_cast<std::int64_t>(set.size());
  const std::int64_t steps = (n + o.batch_size - 1) / o.batch_size;
  // Seeds per epoch so that a resumed run continues exactly as an uninterrupted one.
  torch::manual_seed(o.seed * 1000003 + static_cast<std::uint64_t>(epoch) + 1);
  auto batches = epoch_batches(r, o, epoch, set);
  auto ce = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing);
  r.net->train();
  Progress bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs), n, "images");
  double loss_sum = 0, correct = 0, seen = 0;
  while (auto batch = batches.next()) {
    check_interrupt();
    const auto s = static_cast<std::int64_t>(batch->index);
    std::vector<std::int64_t> labels;
    for (auto row : batch->rows) labels.push_back(r.labels[row]);
    const auto device = compute().device;
    auto x = torch::from_blob(batch->data.data(), batch->shape, torch::kFloat).to(device);
    auto y = torch::tensor(labels, torch::kLong).to(device);
    auto result = r.net->forward(x, r.passes);
    torch::Tensor loss = torch::zeros({});
    for (const auto& p : result.passes)
      loss = loss + torch::nn::functional::cross_entropy(p.logits.to(torch::kFloat), y, ce);
    loss = loss / static_cast<double>(r.passes);
    const double batch_loss = loss.item<double>();
    if (!std::isfinite(batch_loss))
      throw InputError("training diverged: the loss is " + std::to_string(batch_loss) +
                       " in epoch " + std::to_string(epoch + 1) + ", batch " +
                       std::to_string(s + 1) + " of " + std::to_string(steps) +
                       "; the checkpoint keeps the last finite epoch (a lower peak learning rate "
                       "may help)");
    r.net->zero_grad();
    loss.backward();
    const double lr = one_cycle(o.lr, o.warmup, epoch * steps + s, steps * o.epochs);
    sgd_step(r, o, lr);
    const auto b = static_cast<double>(labels.size());
    loss_sum += batch_loss * b;
    correct += result.passes.back().logits.argmax(1).eq(y).sum().item<double>();
    seen += b;
    bar.advance(static_cast<std::int64_t>(labels.size()));
    char note[96];
    std::snprintf(note, sizeof note, "loss %.4f acc %.1f%% lr %.4f", loss_sum / seen,
                  100 * correct / seen, lr);
    bar.set_note(note);
  }
  bar.finish();
  return {epoch + 1, o.epochs, r.passes - 1, loss_sum / static_cast<double>(n),
          correct / static_cast<double>(n)};
}

void write_checkpoint(Run& r, const TrainOptions& o, const EpochRecord& e) {
  std::map<std::string, std::string> meta{
      {"epoch", std::to_string(e.epoch)},
      {"epochs", std::to_string(o.epochs)},
      {kClassesKey, join_class_names(r.classes)},
      {kPreprocessKey, r.preprocess},
      {"seed", std::to_string(o.seed)},
      {"stimuli", o.stimuli},
      {"loss", std::to_string(e.loss)},
      {"train_accuracy", std::to_string(e.accuracy)},
      {"augment", stimuli::augmentation_names.name(o.augmentation)}};
  StateDict extra;
  for (std::size_t i = 0; i < r.params.size(); ++i)
    extra["momentum." + r.params[i].first] = r.momentum[i];
  save_checkpoint(o.out, *r.net, r.arch, meta, extra);
}

}  // namespace

TrainSummary train(const TrainOptions& o, const stimuli::StimulusSet& set) {
  check_options(o);
  const auto started = std::chrono::steady_clock::now();
  auto r = plan(o, set);
  resume(r, o);
  TrainSummary summary;
  summary.resumed_after = r.resumed_after;
  summary.trained_passes = r.passes;
  summary.classes = r.classes;
  for (int epoch = r.start_epoch; epoch < o.epochs; ++epoch) {
    const auto e = run_epoch(r, o, epoch, set);
    write_checkpoint(r, o, e);
    if (o.on_epoch) o.on_epoch(e);
    summary.epochs_done = e.epoch;
    summary.loss = e.loss;
    summary.accuracy = e.accuracy;
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace lrm::model
