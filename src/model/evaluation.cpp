#include "model/evaluation.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/h5.hpp"
#include "io/provenance_attrs.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "model/labelled_data.hpp"
#include "model/metadata.hpp"
#include "stimuli/batch_stream.hpp"

namespace lrm::model {
namespace {

// A checkpoint and the labels of the set as the model orders its classes; the images are streamed
// in batches, preprocessed as the model expects.
struct Prepared {
  LoadedModel model;
  stimuli::Preprocess preprocess;
  std::vector<std::int64_t> labels;
};

Prepared prepare(const EvaluateOptions& o, const std::string& weights,
                 const stimuli::StimulusSet& set) {
  Prepared e;
  e.model = load_model(o.model, weights, o.seed);
  const auto preset = preprocess_preset(e.model);
  e.preprocess = o.preprocessing ? o.preprocessing(preset) : stimuli::Preprocess::preset(preset);
  e.labels = class_labels(set, class_names(e.model, set));
  return e;
}

// The set in order, in batches of the batch size.
stimuli::BatchStream stream(const Prepared& e, const EvaluateOptions& o,
                            const stimuli::StimulusSet& set) {
  return stimuli::BatchStream(set, stimuli::sequential_batches(set.size(), o.batch_size),
                              stimuli::stream_options(e.preprocess));
}

// A streamed batch's images and labels as tensors (the images share the batch's buffer).
std::pair<torch::Tensor, torch::Tensor> tensors(const Prepared& e, stimuli::Batch& b) {
  std::vector<std::int64_t> y;
  for (auto row : b.rows) y.push_back(e.labels[row]);
  const auto device = device_of(*e.model.net);
  return {torch::from_blob(b.data.data(), b.shape, torch::kFloat).to(device),
          torch::tensor(y, torch::kLong).to(device)};
}

io::Provenance provenance(const EvaluateOptions& o, const stimuli::StimulusSet& set) {
  io::ModelInputs in;
  in.weights = o.weights;
  in.stimuli = o.stimuli;
  in.stimuli_checksum = set.checksum();
  in.extra["split"] = o.split;
  in.extra[io::compute_attr] = describe(compute());
  return io::model_provenance(o.seed, in);
}

void check_common(const EvaluateOptions& o) {
  if (o.weights.empty()) throw SettingError("weights", "give at least one checkpoint");
  if (o.passes < 1 || o.passes > kMaxPasses)
    throw SettingError("num-passes", "must lie in 1.." + std::to_string(kMaxPasses));
  if (o.batch_size < 1) throw SettingError("batch-size", "must be at least 1");
  if (o.out.empty()) throw SettingError("out", "give the results file");
}

std::vector<std::int64_t> pass_coordinate(int passes) {
  std::vector<std::int64_t> p(passes);
  for (int k = 0; k < passes; ++k) p[k] = k;
  return p;
}

// Images whose label is the top-1 and among the top-5 outputs, per pass.
void count_hits(Prepared& e, const EvaluateOptions& o, const stimuli::StimulusSet& set,
                const std::string& label, std::vector<double>& top1, std::vector<double>& top5) {
  torch::NoGradGuard no_grad;
  top1.assign(o.passes, 0);
  top5.assign(o.passes, 0);
  Progress bar("evaluate " + label, static_cast<std::int64_t>(set.size()), "images");
  auto batches = stream(e, o, set);
  while (auto b = batches.next()) {
    check_interrupt();
    auto [x, y] = tensors(e, *b);
    auto r = e.model.net->forward(x, o.passes);
    for (int k = 0; k < o.passes; ++k) {
      const auto& logits = r.passes[k].logits;
      auto top = std::get<1>(logits.topk(std::min<std::int64_t>(5, logits.size(1)), 1));
      auto hit = top.eq(y.unsqueeze(1));
      top1[k] += hit.select(1, 0).sum().item<double>();
      top5[k] += hit.any(1).sum().item<double>();
    }
    bar.advance(y.size(0));
  }
  bar.finish();
}

// `baseline`: a checkpoint without feedback pathways (the figure's reference line), or "".
void write_evaluation(io::ResultFile& out, const Evaluation& r, const std::string& split,
                      const std::string& baseline) {
  auto g = out.root().require_group("evaluation");
  h5::write_coordinate(g, "model", r.models);
  h5::write_coordinate(g, "pass", pass_coordinate(r.passes));
  const std::vector<std::uint64_t> shape{r.models.size(), static_cast<std::uint64_t>(r.passes)};
  const h5::ArrayOptions fraction{{}, true, {{"units", "1"}}};
  h5::write_array(g, "top1", r.top1, shape, {"model", "pass"}, fraction);
  h5::write_array(g, "top5", r.top5, shape, {"model", "pass"}, fraction);
  g.set_attr("baseline", baseline);
  g.set_attr("n_images", r.n_images);
  g.set_attr("split", split);
}

// The normalisation's std and the normalised values of pixels 0 and 1, per channel.
struct PixelRange {
  torch::Tensor std, lo, hi;
};

PixelRange pixel_range(const stimuli::Preprocess& p, std::int64_t channels, torch::Device device) {
  auto mean = torch::zeros({1, channels, 1, 1}), std = torch::ones({1, channels, 1, 1});
  for (std::int64_t c = 0; c < channels && c < static_cast<std::int64_t>(p.mean.size()); ++c) {
    mean[0][c] = p.mean[c];
    std[0][c] = p.std[c];
  }
  return {std.to(device), ((0 - mean) / std).to(device), ((1 - mean) / std).to(device)};
}

// Accuracy per ε and pass under FGSM in [0, 1] pixel units (x + ε·sign(∇x loss), clipped to the
// valid pixel range), the gradient taken of the attack pass's cross-entropy.
std::vector<double> fgsm_accuracy(Prepared& e, const RobustnessOptions& o, int passes,
                                  const stimuli::StimulusSet& set, const std::string& label) {
  const auto n = static_cast<std::int64_t>(set.size());
  const auto n_eps = o.epsilons.size();
  std::vector<double> accuracy(n_eps * passes, 0.0);
  Progress bar("fgsm " + label, n, "images");
  auto batches = stream(e, o, set);
  while (auto b = batches.next()) {
    check_interrupt();
    auto [images, y] = tensors(e, *b);
    const auto range = pixel_range(e.preprocess, images.size(1), images.device());
    auto x = images.clone().requires_grad_(true);
    auto r = e.model.net->forward(x, o.attack_pass + 1);
    auto loss =
        torch::nn::functional::cross_entropy(r.passes[o.attack_pass].logits.to(torch::kFloat), y);
    auto grad = torch::autograd::grad({loss}, {x})[0].sign();
    torch::NoGradGuard no_grad;
    for (std::size_t k = 0; k < n_eps; ++k) {
      auto adv =
          torch::max(torch::min(x.detach() + o.epsilons[k] * grad / range.std, range.hi), range.lo);
      auto ra = e.model.net->forward(adv, passes);
      for (int p = 0; p < passes; ++p)
        accuracy[k * passes + p] +=
            ra.passes[p].logits.argmax(1).eq(y).sum().item<double>() / static_cast<double>(n);
    }
    bar.advance(y.size(0));
  }
  bar.finish();
  return accuracy;
}

void write_robustness(io::ResultFile& out, const Robustness& r, const RobustnessOptions& o) {
  auto g = out.root().require_group("robustness");
  const auto models = r.models.size();
  const auto passes = static_cast<std::uint64_t>(r.passes);
  h5::write_coordinate(g, "model", r.models);
  h5::write_coordinate(g, "epsilon", r.epsilons);
  h5::write_coordinate(g, "pass", pass_coordinate(r.passes));
  const h5::ArrayOptions fraction{{}, true, {{"units", "1"}}};
  h5::write_array(g, "accuracy", r.accuracy, {models, r.epsilons.size(), passes},
                  {"model", "epsilon", "pass"}, fraction);
  h5::write_array(g, "auc", r.auc, {models, passes}, {"model", "pass"}, fraction);
  h5::write_array(g, "auc_change_percent", r.change, {models, passes}, {"model", "pass"},
                  {{}, true, {{"units", "%"}}});
  g.set_attr("attack_pass", static_cast<std::int64_t>(o.attack_pass));
  g.set_attr("baseline", o.baseline);
  g.set_attr(
      "attack",
      std::string(
          "FGSM, epsilon in [0,1] pixel units, gradient of the attack pass's cross-entropy"));
}

std::string file_label(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

Evaluation evaluate(const EvaluateOptions& o, const stimuli::StimulusSet& set) {
  check_common(o);
  io::ResultFile out(o.out, provenance(o, set));
  Evaluation r;
  r.models = o.weights;
  r.passes = o.passes;
  std::string baseline;
  for (const auto& w : o.weights) {
    auto e = prepare(o, w, set);
    if (e.model.architecture.pathways.empty()) baseline = w;
    std::vector<double> c1, c5;
    count_hits(e, o, set, file_label(w), c1, c5);
    r.n_images = static_cast<std::int64_t>(set.size());
    for (int k = 0; k < o.passes; ++k) {
      r.top1.push_back(c1[k] / static_cast<double>(r.n_images));
      r.top5.push_back(c5[k] / static_cast<double>(r.n_images));
    }
  }
  write_evaluation(out, r, o.split, baseline);
  out.commit();
  return r;
}

void score_robustness(Robustness& r, std::size_t baseline) {
  const auto n_eps = r.epsilons.size();
  const auto passes = static_cast<std::size_t>(r.passes);
  const auto acc = [&](std::size_t m, std::size_t k, std::size_t p) {
    return r.accuracy[(m * n_eps + k) * passes + p];
  };
  r.auc.assign(r.models.size() * passes, 0.0);
  r.change.assign(r.models.size() * passes, std::nan(""));
  const double range = r.epsilons.back() - r.epsilons.front();
  for (std::size_t m = 0; m < r.models.size(); ++m)
    for (std::size_t p = 0; p < passes; ++p) {
      double a = 0;
      for (std::size_t k = 1; k < n_eps; ++k)
        a += (r.epsilons[k] - r.epsilons[k - 1]) * (acc(m, k, p) + acc(m, k - 1, p)) / 2;
      r.auc[m * passes + p] = range > 0 ? a / range : acc(m, 0, p);
    }
  if (baseline >= r.models.size()) return;
  for (std::size_t m = 0; m < r.models.size(); ++m)
    for (std::size_t p = 0; p < passes; ++p) {
      const double b = r.auc[baseline * passes + p];
      if (b > 0) r.change[m * passes + p] = 100 * (r.auc[m * passes + p] - b) / b;
    }
}

Robustness robustness(const RobustnessOptions& o, const stimuli::StimulusSet& set) {
  check_common(o);
  if (o.epsilons.empty()) throw SettingError("epsilons", "give at least one value");
  for (double eps : o.epsilons)
    if (!(eps >= 0 && std::isfinite(eps)))
      throw SettingError("epsilons", "values must be finite and ≥ 0");
  if (o.attack_pass < 0 || o.attack_pass >= kMaxPasses)
    throw SettingError("attack-pass", "must lie in 0.." + std::to_string(kMaxPasses - 1));
  Robustness r;
  r.models = o.weights;
  if (!o.baseline.empty() &&
      std::find(r.models.begin(), r.models.end(), o.baseline) == r.models.end())
    r.models.push_back(o.baseline);
  r.epsilons = o.epsilons;
  r.passes = std::max(o.passes, o.attack_pass + 1);
  io::ResultFile out(o.out, provenance(o, set));
  for (const auto& m : r.models) {
    auto e = prepare(o, m, set);
    const auto a = fgsm_accuracy(e, o, r.passes, set, file_label(m));
    r.accuracy.insert(r.accuracy.end(), a.begin(), a.end());
  }
  const auto base =
      o.baseline.empty()
          ? r.models.size()
          : static_cast<std::size_t>(std::find(r.models.begin(), r.models.end(), o.baseline) -
                                     r.models.begin());
  score_robustness(r, base);
  write_robustness(out, r, o);
  out.commit();
  return r;
}

}  // namespace lrm::model
