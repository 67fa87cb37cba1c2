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
#include "model/labelled_data.hpp"

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

std::string join_classes(const std::vector<std::string>& classes) {
  std::string out;
  for (const auto& c : classes) out += (out.empty() ? "" : "\t") + c;
  return out;
}

}  // namespace

TrainSummary train(const TrainOptions& o) {
  if (o.out.empty()) throw InputError("--out: give the checkpoint path");
  if (o.epochs < 1) throw InputError("--epochs must be at least 1");
  if (o.batch_size < 1) throw InputError("--batch-size must be at least 1");
  if (o.passes < 1) throw InputError("--passes must be at least 1");
  if (!(o.lr > 0)) throw InputError("--lr must be positive");
  if (o.label_smoothing < 0 || o.label_smoothing >= 1)
    throw InputError("--label-smoothing must be in [0, 1)");
  const auto started = std::chrono::steady_clock::now();

  auto arch = preset(o.model);
  torch::manual_seed(o.seed);
  auto net = build(arch);
  // Without feedback pathways every pass repeats pass 0, so only pass 0 is trained.
  const int passes = arch.pathways.empty() ? 1 : o.passes;
  const auto pre = !o.preprocess.empty()      ? o.preprocess
                   : arch.backbone == "mnist" ? "mnist"
                                              : "imagenet";
  auto data = load_labelled(o.stimuli, o.split, pre);
  const auto n = static_cast<std::int64_t>(data.labels.size());
  auto X = torch::from_blob(data.images.data(), data.shape, torch::kFloat).clone();
  auto Y = torch::tensor(data.labels, torch::kLong);
  {
    torch::NoGradGuard no_grad;
    net->eval();
    const auto outputs = net->forward(X.slice(0, 0, 1), 1).passes[0].logits.size(1);
    if (outputs != static_cast<std::int64_t>(data.classes.size()))
      throw InputError("model " + o.model + " has " + std::to_string(outputs) + " outputs but " +
                       o.stimuli + " has " + std::to_string(data.classes.size()) + " categories");
  }

  std::vector<std::pair<std::string, torch::Tensor>> params;
  for (const auto& p : net->named_parameters()) params.emplace_back(p.key(), p.value());
  std::vector<torch::Tensor> momentum;
  for (const auto& p : params) momentum.push_back(torch::zeros_like(p.second));

  int start_epoch = 0;
  if (o.resume && std::filesystem::exists(o.out)) {
    auto ck = read_checkpoint(o.out);
    if (!ck.architecture || ck.architecture->to_string() != arch.to_string())
      throw InputError("--resume: checkpoint " + o.out.string() + " is not a " + o.model +
                       " training run");
    if (ck.meta["classes"] != join_classes(data.classes))
      throw InputError("--resume: checkpoint " + o.out.string() +
                       " was trained on other categories");
    load_state_dict(*net, ck.state, o.out.string());
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto it = ck.extra.find("momentum." + params[i].first);
      if (it == ck.extra.end())
        throw InputError("--resume: checkpoint " + o.out.string() + " has no optimizer state");
      momentum[i].copy_(it->second);
    }
    start_epoch = std::stoi(ck.meta["epoch"]);
    std::printf("resuming %s after epoch %d\n", o.out.string().c_str(), start_epoch);
  } else if (o.resume) {
    std::printf("no checkpoint at %s; starting from epoch 1\n", o.out.string().c_str());
  }

  const std::int64_t steps_per_epoch = (n + o.batch_size - 1) / o.batch_size;
  const std::int64_t total_steps = steps_per_epoch * o.epochs;
  auto ce = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing);
  TrainSummary summary;
  for (int epoch = start_epoch; epoch < o.epochs; ++epoch) {
    // Seeds per epoch so that a resumed run continues exactly as an uninterrupted one.
    torch::manual_seed(o.seed * 1000003 + static_cast<std::uint64_t>(epoch) + 1);
    std::vector<std::int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(o.seed * 7919 + static_cast<std::uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    auto perm = torch::tensor(order, torch::kLong);
    net->train();
    Progress bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs), n,
                 "images");
    double loss_sum = 0, correct = 0;
    for (std::int64_t s = 0; s < steps_per_epoch; ++s) {
      check_interrupt();
      auto idx = perm.slice(0, s * o.batch_size, std::min<std::int64_t>(n, (s + 1) * o.batch_size));
      auto x = X.index_select(0, idx), y = Y.index_select(0, idx);
      auto result = net->forward(x, passes);
      torch::Tensor loss = torch::zeros({});
      for (const auto& p : result.passes)
        loss = loss + torch::nn::functional::cross_entropy(p.logits, y, ce);
      loss = loss / static_cast<double>(passes);
      net->zero_grad();
      loss.backward();
      const double lr = one_cycle(o.lr, o.warmup, epoch * steps_per_epoch + s, total_steps);
      {
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < params.size(); ++i) {
          auto& p = params[i].second;
          if (!p.grad().defined()) continue;
          auto g = p.grad() + o.weight_decay * p;
          momentum[i].mul_(o.momentum).add_(g);
          p.add_(momentum[i], -lr);
        }
      }
      const auto b = idx.size(0);
      loss_sum += loss.item<double>() * static_cast<double>(b);
      correct += result.passes.back().logits.argmax(1).eq(y).sum().item<double>();
      bar.advance(b);
      const double seen = static_cast<double>(std::min<std::int64_t>(n, (s + 1) * o.batch_size));
      char note[96];
      std::snprintf(note, sizeof note, "loss %.4f acc %.1f%% lr %.4f", loss_sum / seen,
                    100 * correct / seen, lr);
      bar.set_note(note);
    }
    bar.finish();
    summary.loss = loss_sum / static_cast<double>(n);
    summary.accuracy = correct / static_cast<double>(n);
    std::map<std::string, std::string> meta{{"epoch", std::to_string(epoch + 1)},
                                            {"epochs", std::to_string(o.epochs)},
                                            {"classes", join_classes(data.classes)},
                                            {"preprocess", pre},
                                            {"seed", std::to_string(o.seed)},
                                            {"stimuli", o.stimuli},
                                            {"loss", std::to_string(summary.loss)},
                                            {"train_accuracy", std::to_string(summary.accuracy)}};
    StateDict extra;
    for (std::size_t i = 0; i < params.size(); ++i)
      extra["momentum." + params[i].first] = momentum[i];
    save_checkpoint(o.out, *net, arch, meta, extra);
    std::printf("epoch %d/%d: loss %.4f, train accuracy (pass %d) %.2f%% -> %s\n", epoch + 1,
                o.epochs, summary.loss, passes - 1, 100 * summary.accuracy, o.out.string().c_str());
    std::fflush(stdout);
    summary.epochs_done = epoch + 1;
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace lrm::model
