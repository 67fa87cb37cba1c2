#include "steering/sweep.hpp"

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "model/device.hpp"

namespace lrm::steering {
namespace {

int record_pass(const SweepOptions& o) {
  if (o.passes < 2)
    throw SettingError("num-passes", "must be at least 2 to steer (pass 0 is feed-forward)");
  const int p = o.record_pass < 0 ? o.passes - 1 : o.record_pass;
  if (p >= o.passes)
    throw SettingError(
        "pass", std::to_string(p) + " is not run (passes 0.." + std::to_string(o.passes - 1) + ")");
  return p;
}

void check_conditions(const torch::Tensor& input, const Conditions& c) {
  if (c.vectors.dim() != 3 || c.vectors.size(0) != c.size() || c.vectors.size(1) != input.size(0) ||
      c.negative().size() != c.alpha.size())
    throw InternalError("steering conditions: vectors must be K×B×D for K gains and B inputs");
}

model::Record record_of(const SweepOptions& o) {
  model::Record r;
  if (!o.record_layer.empty()) r.layers = {o.record_layer};
  return r;
}

torch::Tensor layer_at(const model::ForwardResult& r, int pass, int first_pass,
                       const std::string& layer) {
  return r.passes[pass - first_pass].layers.at(layer).flatten(1);
}

// The one place a sweep's tensors leave the model's device.
SweepResult on_host(SweepResult r) {
  for (auto* t :
       {&r.pass0, &r.unsteered, &r.steered, &r.layer_pass0, &r.layer_unsteered, &r.layer_steered})
    *t = model::to_host(*t);
  return r;
}

}  // namespace

SweepResult sweep_shared(model::LrmNetImpl& net, const torch::Tensor& host_input,
                         const Conditions& c, const SweepOptions& o) {
  const int rp = record_pass(o);
  check_conditions(host_input, c);
  // The shared pass-1 state and every condition's batch stay on the model's device.
  const auto device = model::device_of(net);
  const auto input = host_input.to(device);
  torch::NoGradGuard no_grad;
  const auto record = record_of(o);
  const bool keep = !o.record_layer.empty();
  const auto B = input.size(0), K = c.size();
  SweepResult out;

  auto first = net.forward(input, 1, nullptr, record);
  out.pass0 = first.passes[0].logits;
  if (keep) out.layer_pass0 = layer_at(first, 0, 0, o.record_layer);
  // Pass 1 is the same for every condition up to the first layer the steered source modulates.
  const auto prefix = net.forward_prefix(first.state, input, net.first_reader(c.source), record);
  const bool recorded_in_prefix = keep && prefix.layers.count(o.record_layer);
  auto pass1_layer = [&](const model::ForwardResult& r, std::int64_t rows) {
    if (recorded_in_prefix && rp == 1)
      return prefix.layers.at(o.record_layer).flatten(1).repeat({rows / B, 1});
    return layer_at(r, rp, 1, o.record_layer);
  };
  auto rest = net.forward_from(first.state, input, o.passes, nullptr, record, &prefix);
  out.unsteered = rest.passes.back().logits;
  if (keep) out.layer_unsteered = rp == 0 ? out.layer_pass0 : pass1_layer(rest, B);

  // Whole conditions per call, as many as fit in max_rows (at least one).
  const std::int64_t per_call =
      std::max<std::int64_t>(1, o.max_rows / std::max<std::int64_t>(B, 1));
  std::vector<torch::Tensor> logits, layers;
  for (std::int64_t k0 = 0; k0 < K; k0 += per_call) {
    check_interrupt();
    const auto kc = std::min(per_call, K - k0);
    const auto rows = torch::arange(B, torch::kLong).repeat({kc}).to(device);
    model::Steering s;
    s.source = c.source;
    s.vector = c.vectors.slice(0, k0, k0 + kc).reshape({kc * B, c.vectors.size(2)});
    const auto gains = [&](const std::vector<double>& alpha) {
      return torch::tensor(std::vector<double>(alpha.begin() + k0, alpha.begin() + k0 + kc))
          .to(torch::kFloat)
          .repeat_interleave(B);
    };
    s.strength_neg = gains(c.negative());
    s.strength_pos = gains(c.alpha);
    const auto rows_prefix = prefix.select(rows);
    auto r = net.forward_from(first.state.select(rows), input.index_select(0, rows), o.passes, &s,
                              record, &rows_prefix);
    logits.push_back(r.passes.back().logits.reshape({kc, B, -1}));
    if (keep)
      layers.push_back(rp == 0
                           ? out.layer_pass0.unsqueeze(0).expand({kc, B, out.layer_pass0.size(1)})
                           : pass1_layer(r, kc * B).reshape({kc, B, -1}));
  }
  out.steered = K ? torch::cat(logits) : torch::empty({0, B, out.pass0.size(1)});
  if (keep && K) out.layer_steered = torch::cat(layers);
  return on_host(std::move(out));
}

SweepResult sweep_naive(model::LrmNetImpl& net, const torch::Tensor& input, const Conditions& c,
                        const SweepOptions& o) {
  const int rp = record_pass(o);
  check_conditions(input, c);
  torch::NoGradGuard no_grad;
  const auto record = record_of(o);
  const bool keep = !o.record_layer.empty();
  SweepResult out;
  auto plain = net.forward(input, o.passes, nullptr, record);
  out.pass0 = plain.passes[0].logits;
  out.unsteered = plain.passes.back().logits;
  if (keep) {
    out.layer_pass0 = layer_at(plain, 0, 0, o.record_layer);
    out.layer_unsteered = layer_at(plain, rp, 0, o.record_layer);
  }
  std::vector<torch::Tensor> logits, layers;
  for (std::int64_t k = 0; k < c.size(); ++k) {
    check_interrupt();
    auto s = model::Steering::make(c.source, c.vectors[k]);
    s.set_strength(c.negative()[k], c.alpha[k]);
    auto r = net.forward(input, o.passes, &s, record);
    logits.push_back(r.passes.back().logits);
    if (keep) layers.push_back(layer_at(r, rp, 0, o.record_layer));
  }
  out.steered =
      c.size() ? torch::stack(logits) : torch::empty({0, input.size(0), out.pass0.size(1)});
  if (keep && c.size()) out.layer_steered = torch::stack(layers);
  return on_host(std::move(out));
}

}  // namespace lrm::steering
