#include "model/evaluation.hpp"

#include <cstdio>
#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/h5.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "model/labelled_data.hpp"
#include "stimuli/image.hpp"

namespace lrm::model {
namespace {

std::vector<std::string> split_classes(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string c;
  while (std::getline(in, c, '\t')) out.push_back(c);
  return out;
}

struct Evaluated {
  LoadedModel model;
  LabelledData data;
  std::string preprocess;
  torch::Tensor X, Y;
};

Evaluated prepare(const EvaluateOptions& o, const std::string& weights) {
  Evaluated e;
  e.model = load_model(o.model, weights, o.seed);
  auto it = e.model.meta.find("preprocess");
  e.preprocess = !o.preprocess.empty()                      ? o.preprocess
                 : it != e.model.meta.end()                 ? it->second
                 : e.model.architecture.backbone == "mnist" ? "mnist"
                                                            : "imagenet";
  auto classes = e.model.meta.count("classes") ? split_classes(e.model.meta.at("classes"))
                                               : std::vector<std::string>{};
  e.data = load_labelled(o.stimuli, o.split, e.preprocess, classes);
  e.X = torch::from_blob(e.data.images.data(), e.data.shape, torch::kFloat);
  e.Y = torch::tensor(e.data.labels, torch::kLong);
  return e;
}

io::Provenance provenance(const EvaluateOptions& o) {
  auto prov = io::current_provenance(o.seed);
  for (std::size_t i = 0; i < o.weights.size(); ++i)
    prov.inputs["weights_sha256_" + std::to_string(i)] = io::sha256_file(o.weights[i]);
  prov.inputs["stimuli"] = o.stimuli;
  prov.inputs["split"] = o.split;
  return prov;
}

void check_common(const EvaluateOptions& o) {
  if (o.weights.empty()) throw InputError("--weights: give at least one checkpoint");
  if (o.passes < 1) throw InputError("--passes must be at least 1");
  if (o.batch_size < 1) throw InputError("--batch-size must be at least 1");
  if (o.out.empty()) throw InputError("--out: give the results file");
}

std::vector<std::int64_t> pass_coordinate(int passes) {
  std::vector<std::int64_t> p(passes);
  for (int k = 0; k < passes; ++k) p[k] = k;
  return p;
}

}  // namespace

void evaluate(const EvaluateOptions& o) {
  check_common(o);
  io::ResultFile out(o.out, provenance(o));
  std::vector<double> top1, top5;
  std::printf("%-40s %5s %8s %8s\n", "model", "pass", "top-1", "top-5");
  torch::NoGradGuard no_grad;
  std::int64_t n_images = 0;
  for (const auto& w : o.weights) {
    auto e = prepare(o, w);
    const auto n = e.Y.size(0);
    n_images = n;
    std::vector<double> c1(o.passes, 0), c5(o.passes, 0);
    Progress bar("evaluate " + std::filesystem::path(w).filename().string(), n, "images");
    for (std::int64_t first = 0; first < n; first += o.batch_size) {
      check_interrupt();
      const auto last = std::min<std::int64_t>(n, first + o.batch_size);
      auto y = e.Y.slice(0, first, last);
      auto r = e.model.net->forward(e.X.slice(0, first, last), o.passes);
      for (int k = 0; k < o.passes; ++k) {
        const auto& logits = r.passes[k].logits;
        auto top = std::get<1>(logits.topk(std::min<std::int64_t>(5, logits.size(1)), 1));
        auto hit = top.eq(y.unsqueeze(1));
        c1[k] += hit.select(1, 0).sum().item<double>();
        c5[k] += hit.any(1).sum().item<double>();
      }
      bar.advance(last - first);
    }
    bar.finish();
    for (int k = 0; k < o.passes; ++k) {
      top1.push_back(c1[k] / static_cast<double>(n));
      top5.push_back(c5[k] / static_cast<double>(n));
      std::printf("%-40s %5d %7.2f%% %7.2f%%\n", w.c_str(), k, 100 * top1.back(),
                  100 * top5.back());
    }
  }
  auto g = out.root().require_group("evaluation");
  h5::write_coordinate(g, "model", o.weights);
  h5::write_coordinate(g, "pass", pass_coordinate(o.passes));
  const std::vector<std::uint64_t> shape{o.weights.size(), static_cast<std::uint64_t>(o.passes)};
  h5::write_array(g, "top1", top1, shape, {"model", "pass"});
  h5::write_array(g, "top5", top5, shape, {"model", "pass"});
  g.set_attr("n_images", n_images);
  g.set_attr("split", o.split);
  out.commit();
}

void robustness(const RobustnessOptions& o) {
  check_common(o);
  if (o.epsilons.empty()) throw InputError("--epsilons: give at least one value");
  for (double eps : o.epsilons)
    if (eps < 0) throw InputError("--epsilons: values must be ≥ 0");
  if (o.attack_pass < 0) throw InputError("--attack-pass must be ≥ 0");
  std::vector<std::string> models = o.weights;
  if (!o.baseline.empty() && std::find(models.begin(), models.end(), o.baseline) == models.end())
    models.push_back(o.baseline);
  const int passes = std::max(o.passes, o.attack_pass + 1);
  const auto n_eps = o.epsilons.size();
  std::vector<double> accuracy(models.size() * n_eps * passes, 0.0);
  io::ResultFile out(o.out, provenance(o));
  for (std::size_t m = 0; m < models.size(); ++m) {
    auto e = prepare(o, models[m]);
    auto pre = stimuli::Preprocess::preset(e.preprocess);
    const auto channels = e.X.size(1);
    auto mean = torch::zeros({1, channels, 1, 1}), std = torch::ones({1, channels, 1, 1});
    for (std::int64_t c = 0; c < channels && c < static_cast<std::int64_t>(pre.mean.size()); ++c) {
      mean[0][c] = pre.mean[c];
      std[0][c] = pre.std[c];
    }
    // FGSM in [0, 1] pixel units: x + ε·sign(∇x loss), clipped to the valid pixel range.
    auto lo = (0 - mean) / std, hi = (1 - mean) / std;
    const auto n = e.Y.size(0);
    Progress bar("fgsm " + std::filesystem::path(models[m]).filename().string(), n, "images");
    for (std::int64_t first = 0; first < n; first += o.batch_size) {
      check_interrupt();
      const auto last = std::min<std::int64_t>(n, first + o.batch_size);
      auto y = e.Y.slice(0, first, last);
      auto x = e.X.slice(0, first, last).clone().requires_grad_(true);
      auto r = e.model.net->forward(x, o.attack_pass + 1);
      auto loss = torch::nn::functional::cross_entropy(r.passes[o.attack_pass].logits, y);
      auto grad = torch::autograd::grad({loss}, {x})[0].sign();
      torch::NoGradGuard no_grad;
      for (std::size_t k = 0; k < n_eps; ++k) {
        auto adv = torch::max(torch::min(x.detach() + o.epsilons[k] * grad / std, hi), lo);
        auto ra = e.model.net->forward(adv, passes);
        for (int p = 0; p < passes; ++p)
          accuracy[(m * n_eps + k) * passes + p] +=
              ra.passes[p].logits.argmax(1).eq(y).sum().item<double>() / static_cast<double>(n);
      }
      bar.advance(last - first);
    }
    bar.finish();
  }
  // Area under accuracy vs ε (trapezoids, divided by the ε range: a mean accuracy).
  std::vector<double> auc(models.size() * passes, 0.0), change(models.size() * passes, 0.0);
  const double range = o.epsilons.back() - o.epsilons.front();
  for (std::size_t m = 0; m < models.size(); ++m)
    for (int p = 0; p < passes; ++p) {
      double a = 0;
      for (std::size_t k = 1; k < n_eps; ++k)
        a += (o.epsilons[k] - o.epsilons[k - 1]) *
             (accuracy[(m * n_eps + k) * passes + p] + accuracy[(m * n_eps + k - 1) * passes + p]) /
             2;
      auc[m * passes + p] = range > 0 ? a / range : accuracy[m * n_eps * passes + p];
    }
  const auto base = o.baseline.empty()
                        ? models.size()
                        : static_cast<std::size_t>(
                              std::find(models.begin(), models.end(), o.baseline) - models.begin());
  std::printf("%-40s %5s %8s %10s\n", "model", "pass", "AUC", "vs base");
  for (std::size_t m = 0; m < models.size(); ++m)
    for (int p = 0; p < passes; ++p) {
      const double b = base < models.size() ? auc[base * passes + p] : std::nan("");
      change[m * passes + p] =
          base < models.size() && b > 0 ? 100 * (auc[m * passes + p] - b) / b : std::nan("");
      std::printf("%-40s %5d %7.2f%% %9.2f%%\n", models[m].c_str(), p, 100 * auc[m * passes + p],
                  change[m * passes + p]);
    }
  auto g = out.root().require_group("robustness");
  h5::write_coordinate(g, "model", models);
  h5::write_coordinate(g, "epsilon", o.epsilons);
  h5::write_coordinate(g, "pass", pass_coordinate(passes));
  h5::write_array(g, "accuracy", accuracy,
                  {models.size(), n_eps, static_cast<std::uint64_t>(passes)},
                  {"model", "epsilon", "pass"});
  h5::write_array(g, "auc", auc, {models.size(), static_cast<std::uint64_t>(passes)},
                  {"model", "pass"});
  h5::write_array(g, "auc_change_percent", change,
                  {models.size(), static_cast<std::uint64_t>(passes)}, {"model", "pass"});
  g.set_attr("attack_pass", static_cast<std::int64_t>(o.attack_pass));
  g.set_attr("baseline", o.baseline);
  g.set_attr(
      "attack",
      std::string(
          "FGSM, epsilon in [0,1] pixel units, gradient of the attack pass's cross-entropy"));
  out.commit();
}

}  // namespace lrm::model
