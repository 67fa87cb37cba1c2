#include "model/lrm_net.hpp"

#include <torch/script.h>

#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/text.hpp"
#include "model/device.hpp"

namespace lrm::model {
namespace {

std::string underscored(std::string s) {
  for (auto& c : s)
    if (c == '.') c = '_';
  return s;
}

// "torch::nn::Conv2dImpl" or "__torch__.torch.nn.modules.conv.Conv2d" → "Conv2d".
std::string short_type(std::string t) {
  auto cut = t.find_last_of(".:");
  if (cut != std::string::npos) t = t.substr(cut + 1);
  if (t.size() > 4 && t.compare(t.size() - 4, 4, "Impl") == 0) t.resize(t.size() - 4);
  return t;
}

// Plain module used to give parameters their published nested names.
std::shared_ptr<torch::nn::Module> child_holder(torch::nn::Module& parent,
                                                const std::string& name) {
  for (auto& c : parent.named_children())
    if (c.key() == name) return c.value();
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const auto up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

torch::Tensor bilinear(const torch::Tensor& x, std::int64_t h, std::int64_t w) {
  if (x.size(-2) == h && x.size(-1) == w) return x;
  return torch::upsample_bilinear2d(x, {h, w}, /*align_corners=*/true);
}

}  // namespace

// ----------------------------------------------------------------------------------- Chain
std::vector<std::string> closest_names(const std::string& name,
                                       const std::vector<std::string>& names, std::size_t count) {
  std::vector<std::pair<std::size_t, std::size_t>> scored;
  for (std::size_t i = 0; i < names.size(); ++i)
    scored.emplace_back(edit_distance(name, names[i]), i);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < std::min(count, scored.size()); ++i)
    out.push_back(names[scored[i].second]);
  return out;
}

std::size_t ChainImpl::add_layer(std::string name, std::string type) {
  names_.push_back(std::move(name));
  types_.push_back(std::move(type));
  stage_of_.push_back(stages_.size());
  return names_.size() - 1;
}

void ChainImpl::add(const std::string& name, torch::nn::AnyModule layer, bool flatten_input) {
  register_module(name, layer.ptr());
  add_layer(name, short_type(layer.ptr()->name()));
  stages_.push_back({[layer, name](torch::Tensor x, const Tap& tap) mutable {
                       return tap(name, layer.forward(x));
                     },
                     flatten_input});
}

void ChainImpl::expand(const std::string& name, const torch::nn::Sequential& block,
                       bool flatten_first) {
  const auto container = add_layer(name, short_type(block->name()));
  const auto children = block->named_children();
  if (children.is_empty()) throw std::invalid_argument("empty block " + name);
  for (std::size_t i = 0; i < children.size(); ++i) {
    const auto child = name + "." + children[i].key();
    if (auto inner = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(children[i].value())) {
      expand(child, torch::nn::Sequential(inner), flatten_first && i == 0);
      continue;
    }
    add_layer(child, short_type(children[i].value()->name()));
    stages_.push_back(
        {[seq = torch::nn::Sequential(block), i, child](torch::Tensor x, const Tap& tap) mutable {
           return tap(child, (seq->begin() + i)->forward(x));
         },
         flatten_first && i == 0});
  }
  // The container reports after its last child, in the same stage.
  stage_of_[container] = stages_.size() - 1;
  auto& last = stages_.back().run;
  last = [inner = last, name](torch::Tensor x, const Tap& tap) {
    return tap(name, inner(std::move(x), tap));
  };
}

void ChainImpl::add_block(const std::string& name, torch::nn::Sequential block,
                          bool flatten_input) {
  register_module(name, block);
  expand(name, block, flatten_input);
}

void ChainImpl::add_stage(const std::string& name, std::shared_ptr<torch::nn::Module> module,
                          Stage run) {
  register_module(name, module);
  for (const auto& m : module->named_modules(name))
    add_layer(m.key(), short_type(m.value()->name()));
  stages_.push_back({std::move(run), false});
}

std::shared_ptr<ChainImpl> ChainImpl::from_torchscript(const std::string& path) {
  auto script = std::make_shared<torch::jit::Module>();
  try {
    *script = torch::jit::load(path);
  } catch (const c10::Error& e) {
    throw InputError("cannot load TorchScript model " + path + ": " + e.what_without_backtrace());
  }
  auto chain = std::make_shared<ChainImpl>();
  auto type_of = [](const torch::jit::Module& m) {
    return short_type(m.type()->name() ? m.type()->name()->qualifiedName() : "Module");
  };
  // Shares the script's parameter tensors under the same nested names.
  auto share = [&](const std::string& name, const torch::jit::Module& leaf) {
    torch::nn::Module* holder = chain.get();
    std::stringstream parts(name);
    std::string part;
    std::shared_ptr<torch::nn::Module> h;
    while (std::getline(parts, part, '.')) {
      h = child_holder(*holder, part);
      holder = h.get();
    }
    for (const auto& p : leaf.named_parameters(/*recurse=*/false))
      holder->register_parameter(p.name, p.value);
    for (const auto& b : leaf.named_buffers(/*recurse=*/false))
      holder->register_buffer(b.name, b.value);
  };
  std::function<void(const std::string&, const torch::jit::Module&, bool)> expand_script =
      [&](const std::string& name, const torch::jit::Module& m, bool flatten) {
        auto children = m.named_children();
        if (children.size() == 0) {
          share(name, m);
          chain->add_layer(name, type_of(m));
          chain->stages_.push_back({[leaf = m, name](torch::Tensor x, const Tap& tap) mutable {
                                      return tap(name, leaf.forward({x}).toTensor());
                                    },
                                    flatten});
          return;
        }
        const auto container = chain->add_layer(name, type_of(m));
        bool has_linear = false;
        for (const auto& g : children) has_linear = has_linear || type_of(g.value) == "Linear";
        bool first = true;
        for (const auto& g : children) {
          expand_script(name + "." + g.name, g.value, (flatten || has_linear) && first);
          first = false;
        }
        chain->stage_of_[container] = chain->stages_.size() - 1;
        auto& last = chain->stages_.back().run;
        last = [inner = last, name](torch::Tensor x, const Tap& tap) {
          return tap(name, inner(std::move(x), tap));
        };
      };
  for (const auto& child : script->named_children()) expand_script(child.name, child.value, false);
  if (chain->stage_count() == 0)
    throw InputError("TorchScript model " + path + " has no child modules to chain");
  chain->script_train_ = [script](bool on) { script->train(on); };
  return chain;
}

void ChainImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (script_train_) script_train_(on);
}

std::size_t ChainImpl::index_of(const std::string& name, const std::string& what) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  if (it != names_.end()) return static_cast<std::size_t>(it - names_.begin());
  // Few names: list them all; many (a ResNet has hundreds): the closest ones.
  constexpr std::size_t kListAll = 40;
  std::string msg =
      "unknown " + what + " '" + name + "'; closest: " + join(closest_names(name, names_, 5));
  if (names_.size() <= kListAll)
    msg += "; valid layers: " + join(names_);
  else
    msg += " (" + std::to_string(names_.size()) + " layers in all)";
  throw InputError(msg);
}

torch::Tensor ChainImpl::run_stage(std::size_t stage, torch::Tensor x, const Tap& tap) {
  if (stages_[stage].flatten && x.dim() > 2) x = x.flatten(1);
  return stages_[stage].run(std::move(x), tap);
}

// ----------------------------------------------------------------------------------- helpers
std::string pathway_module_name(const Pathway& p) {
  auto d = underscored(p.destination);
  return d + "_modulation.from_" + underscored(p.source) + "_to_" + d;
}

Steering Steering::make(std::string source, torch::Tensor vector, double strength, double mix,
                        bool first_pass) {
  Steering s;
  s.source = std::move(source);
  s.vector = std::move(vector);
  s.set_strength(strength, strength);
  s.mix = mix;
  s.first_pass = first_pass;
  return s;
}

void Steering::set_strength(double negative, double positive) {
  strength_neg = torch::full({}, negative, torch::kFloat);
  strength_pos = torch::full({}, positive, torch::kFloat);
}

PassState PassState::select(const torch::Tensor& rows) const {
  PassState out;
  out.passes_done = passes_done;
  for (const auto& [name, t] : kept) out.kept[name] = t.index_select(0, rows);
  return out;
}

PassPrefix PassPrefix::select(const torch::Tensor& rows) const {
  PassPrefix out;
  out.stage = stage;
  out.x = x.index_select(0, rows);
  for (const auto& [name, t] : kept) out.kept[name] = t.index_select(0, rows);
  for (const auto& [name, t] : layers) out.layers[name] = t.index_select(0, rows);
  return out;
}

std::vector<torch::Tensor> ForwardResult::logits() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : passes) out.push_back(p.logits);
  return out;
}

// ----------------------------------------------------------------------------------- ModBlock
ModBlockImpl::ModBlockImpl(std::int64_t source_channels, std::vector<std::int64_t> norm_spatial,
                           std::int64_t destination_channels) {
  neg_scale = register_parameter("neg_scale", torch::ones({1}));
  pos_scale = register_parameter("pos_scale", torch::ones({1}));
  std::vector<std::int64_t> norm_shape{source_channels};
  norm_shape.insert(norm_shape.end(), norm_spatial.begin(), norm_spatial.end());
  auto rescale = register_module("rescale", std::make_shared<torch::nn::Module>());
  auto norm = rescale->register_module("norm", std::make_shared<torch::nn::Module>());
  norm_weight = norm->register_parameter("weight", torch::ones(norm_shape));
  norm_bias = norm->register_parameter("bias", torch::zeros(norm_shape));
  modulation = register_module("modulation", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                 source_channels, destination_channels, 1)));
}

torch::Tensor ModBlockImpl::forward(const torch::Tensor& source_in, std::int64_t height,
                                    std::int64_t width, const torch::Tensor& neg_gain,
                                    const torch::Tensor& pos_gain) {
  // Norms in the parameters' precision: a bfloat16 source under autocast is normalised in float.
  const auto source = source_in.to(norm_weight.scalar_type());
  torch::Tensor a;
  if (norm_weight.dim() == 1) {
    // Vector sources, and sources 1×1 at the probe size: a layer norm over channels, then the
    // (broadcasting) B×C×1×1 without resizing.
    const auto c = norm_weight.size(0);
    if (source.dim() == 2) {
      a = torch::layer_norm(source, {c}, norm_weight, norm_bias, 1e-5).view({-1, c, 1, 1});
    } else {
      a = torch::layer_norm(source.permute({0, 2, 3, 1}), {c}, norm_weight, norm_bias, 1e-5)
              .permute({0, 3, 1, 2});
    }
    a = torch::tanh(a);
  } else {
    const auto h = source.size(2), w = source.size(3);
    auto weight = bilinear(norm_weight.unsqueeze(0), h, w).squeeze(0);
    auto bias = bilinear(norm_bias.unsqueeze(0), h, w).squeeze(0);
    a = torch::tanh(torch::layer_norm(source, {source.size(1), h, w}, weight, bias, 1e-5));
    a = bilinear(a, height, width);
  }
  // A source upsampled to a large destination (AlexNet's features.9 → features.0: 256 channels at
  // 55×55 per image) makes each step here take up to a second on a loaded machine: Ctrl-C is
  // checked between them, not only between stages.
  check_interrupt();
  auto per_row = [](const torch::Tensor& g) { return g.dim() == 0 ? g : g.view({-1, 1, 1, 1}); };
  auto neg = neg_scale * per_row(neg_gain), pos = pos_scale * per_row(pos_gain);
  a = torch::where(a < 0, a * neg, a * pos);
  check_interrupt();
  return modulation->forward(a);
}

// ----------------------------------------------------------------------------------- LrmNet
namespace {

// Each layer's output shape (its last call's) for one zero image of shape `probe`.
std::map<std::string, std::vector<std::int64_t>> probe_shapes(
    ChainImpl& backbone, const std::vector<std::int64_t>& probe) {
  std::map<std::string, std::vector<std::int64_t>> shapes;
  torch::NoGradGuard no_grad;
  const bool was_training = backbone.is_training();
  backbone.eval();
  std::vector<std::int64_t> in{1};
  in.insert(in.end(), probe.begin(), probe.end());
  auto x = torch::zeros(in);
  const ChainImpl::Tap tap = [&](const std::string& name, torch::Tensor y) {
    shapes[name] = y.sizes().vec();
    return y;
  };
  for (std::size_t s = 0; s < backbone.stage_count(); ++s) x = backbone.run_stage(s, x, tap);
  backbone.train(was_training);
  return shapes;
}

}  // namespace

LrmNetImpl::LrmNetImpl(Chain backbone, std::vector<Pathway> pathways, Motif motif,
                       std::vector<std::int64_t> probe)
    : pathways_(std::move(pathways)), motif_(motif), probe_(std::move(probe)) {
  feedforward_ = register_module("feedforward", backbone);
  // Output shapes at the probe input size the norms and the 1×1 convs.
  const auto shapes = pathways_.empty() ? decltype(probe_shapes(*feedforward_, probe_)){}
                                        : probe_shapes(*feedforward_, probe_);
  auto shape_of = [&](const std::string& layer) -> std::vector<std::int64_t> {
    auto it = shapes.find(layer);
    if (it == shapes.end())
      throw InputError("layer '" + layer + "' produces no output when the model runs");
    return it->second;
  };
  auto lrm = register_module("lrm", std::make_shared<torch::nn::Module>());
  for (std::size_t k = 0; k < pathways_.size(); ++k) {
    const auto& p = pathways_[k];
    for (std::size_t j = 0; j < k; ++j)
      if (pathways_[j] == p)
        throw InputError("pathway " + p.source + " -> " + p.destination + " is listed twice");
    feedforward_->index_of(p.source, "pathway source");
    const auto d = feedforward_->index_of(p.destination, "pathway destination");
    const auto ds = shape_of(p.destination);
    if (ds.size() != 4)
      throw InputError("pathway destination '" + p.destination +
                       "' has no spatial (C×H×W) output to modulate: it is a " +
                       feedforward_->layer_type(d) + " with " + std::to_string(ds.back()) +
                       " outputs");
    const auto ss = shape_of(p.source);
    if (ss.size() != 2 && ss.size() != 4)
      throw InputError("pathway source '" + p.source + "' must output B×C or B×C×H×W");
    // A source that is 1×1 at the probe size is normalised over channels like a vector.
    std::vector<std::int64_t> spatial;
    if (ss.size() == 4 && (ss[2] != 1 || ss[3] != 1)) spatial = {ds[2], ds[3]};
    auto block = ModBlock(ss[1], spatial, ds[1]);
    auto dest_holder = child_holder(*lrm, underscored(p.destination) + "_modulation");
    dest_holder->register_module(
        "from_" + underscored(p.source) + "_to_" + underscored(p.destination), block);
    blocks_.push_back(block);
    incoming_[p.destination].push_back(k);
    source_layers_.insert(p.source);
  }
}

std::vector<std::string> LrmNetImpl::sources() const {
  std::vector<std::string> out;
  for (const auto& p : pathways_)
    if (std::find(out.begin(), out.end(), p.source) == out.end()) out.push_back(p.source);
  return out;
}

std::vector<std::string> LrmNetImpl::destinations() const {
  std::vector<std::string> out;
  for (const auto& p : pathways_)
    if (std::find(out.begin(), out.end(), p.destination) == out.end()) out.push_back(p.destination);
  return out;
}

void LrmNetImpl::check_steering(const Steering& s, std::int64_t batch) const {
  auto srcs = sources();
  if (std::find(srcs.begin(), srcs.end(), s.source) == srcs.end())
    throw InputError("steering source '" + s.source +
                     "' is not a pathway source of this model; sources: " +
                     (srcs.empty() ? std::string("none (no feedback pathways)") : join(srcs)));
  if (!s.vector.defined() || s.vector.dim() < 2)
    throw InputError("steering vector for " + s.source + " must be 1×D or B×D");
  if (s.vector.size(0) != 1 && s.vector.size(0) != batch)
    throw InputError("steering vector for " + s.source + " has " +
                     std::to_string(s.vector.size(0)) + " rows; expected 1 or the batch size " +
                     std::to_string(batch));
  // Vector sources: the unit count is fixed whatever the input size.
  for (const auto& p : pathways_) {
    if (p.source != s.source) continue;
    const auto& b = blocks_[&p - pathways_.data()];
    if (b->norm_weight.dim() == 1 && s.vector[0].numel() != b->norm_weight.size(0))
      throw InputError("steering vector for " + s.source + " has " +
                       std::to_string(s.vector[0].numel()) + " values per row; the layer has " +
                       std::to_string(b->norm_weight.size(0)) + " units");
    break;
  }
  for (const auto& g : {s.strength_neg, s.strength_pos})
    if (g.dim() > 1 || (g.dim() == 1 && g.size(0) != batch && g.size(0) != 1))
      throw InputError("steering strength must be a scalar or one value per batch row");
}

ForwardResult LrmNetImpl::forward(const torch::Tensor& input, int passes, const Steering* steering,
                                  const Record& record) {
  return run(PassState{}, input, passes, steering, record, nullptr);
}

ForwardResult LrmNetImpl::forward_from(const PassState& state, const torch::Tensor& input,
                                       int passes, const Steering* steering, const Record& record,
                                       const PassPrefix* prefix) {
  if (state.passes_done < 1) throw std::invalid_argument("forward_from needs a state after pass 0");
  return run(state, input, passes, steering, record, prefix);
}

PassPrefix LrmNetImpl::forward_prefix(const PassState& state, const torch::Tensor& input,
                                      std::size_t stage, const Record& record) {
  check_input(input, record);
  if (stage > feedforward_->stage_count())
    throw std::invalid_argument("forward_prefix: no such stage");
  PassOutput out;
  PassPrefix prefix;
  prefix.stage = stage;
  const auto device = device_of(*this);
  PrecisionScope precision(device);
  const auto used = sources_read(state, state.passes_done, nullptr, input.scalar_type());
  prefix.x = run_stages(0, stage, input.to(device), used, nullptr, record, out, prefix.kept);
  prefix.layers = std::move(out.layers);
  return prefix;
}

std::size_t LrmNetImpl::first_reader(const std::string& source) const {
  std::size_t first = feedforward_->stage_count();
  for (const auto& p : pathways_)
    if (p.source == source)
      first = std::min(first, feedforward_->stage_of(feedforward_->index_of(p.destination)));
  if (first == feedforward_->stage_count())
    throw InputError("no feedback pathway starts at " + source);
  return first;
}

void LrmNetImpl::check_input(const torch::Tensor& input, const Record& record) const {
  if (input.dim() != 4)
    throw InputError("model input must be B×C×H×W, got " + std::to_string(input.dim()) +
                     " dimensions");
  if (input.size(1) != probe_[0])
    throw InputError("model input has " + std::to_string(input.size(1)) +
                     " channels; the model expects " + std::to_string(probe_[0]));
  for (const auto& name : record.layers) feedforward_->index_of(name);
}

std::map<std::string, torch::Tensor> LrmNetImpl::sources_read(const PassState& state, int pass,
                                                              const Steering* steering,
                                                              torch::ScalarType dtype) const {
  std::map<std::string, torch::Tensor> used;
  if (pass > 0) used = state.kept;
  if (steering && (pass > 0 || steering->first_pass)) {
    auto v = steering->vector.to(dtype);
    auto it = used.find(steering->source);
    if (it != used.end()) {
      auto kept = it->second;
      auto shape = kept.sizes().vec();
      shape[0] = v.size(0);
      auto vv = v.reshape(shape);
      it->second = steering->mix * vv + (1.0 - steering->mix) * kept;
    } else {
      used[steering->source] = steering->mix * v;
    }
  }
  return used;
}

torch::Tensor LrmNetImpl::run_stages(std::size_t from, std::size_t to, torch::Tensor x,
                                     const std::map<std::string, torch::Tensor>& used,
                                     const Steering* steering, const Record& record,
                                     PassOutput& out, std::map<std::string, torch::Tensor>& kept) {
  const auto one = torch::ones({});
  const ChainImpl::Tap tap = [&](const std::string& name, torch::Tensor y) {
    if (auto in = incoming_.find(name); in != incoming_.end()) {
      torch::Tensor F;
      for (auto k : in->second) {
        const auto& p = pathways_[k];
        auto src = used.find(p.source);
        if (src == used.end()) continue;
        const bool steered = steering && steering->source == p.source;
        auto f = blocks_[k]->forward(src->second, y.size(2), y.size(3),
                                     steered ? steering->strength_neg : one,
                                     steered ? steering->strength_pos : one);
        F = F.defined() ? F + f : f;
      }
      if (record.modulation) out.pre_modulation[name] = y;
      if (F.defined()) {
        if (record.modulation) out.modulation[name] = F;
        y = motif_ == Motif::multiplicative ? torch::relu(y + y * F) : torch::relu(y + F);
      }
    }
    if (record.layers.count(name)) out.layers[name] = y;
    if (source_layers_.count(name)) kept[name] = y;
    return y;
  };
  for (std::size_t s = from; s < to; ++s) {
    // A forward call of many passes on a large batch can take minutes; Ctrl-C stops it here.
    check_interrupt();
    x = feedforward_->run_stage(s, x, tap);
  }
  return x;
}

ForwardResult LrmNetImpl::run(PassState state, const torch::Tensor& input, int passes,
                              const Steering* steering, const Record& record,
                              const PassPrefix* prefix) {
  check_input(input, record);
  const auto batch = input.size(0);
  if (steering) check_steering(*steering, batch);
  // Inputs and steering follow the model to its device (no copy when they are there already).
  const auto device = device_of(*this);
  const auto on_device = input.to(device);
  Steering moved;
  if (steering &&
      (steering->vector.device() != device || steering->strength_neg.device() != device ||
       steering->strength_pos.device() != device)) {
    moved = *steering;
    moved.vector = steering->vector.to(device);
    moved.strength_neg = steering->strength_neg.to(device);
    moved.strength_pos = steering->strength_pos.to(device);
    steering = &moved;
  }
  PrecisionScope precision(device);

  ForwardResult result;
  const int first_pass = state.passes_done;
  for (int pass = first_pass; pass < passes; ++pass) {
    const auto used = sources_read(state, pass, steering, input.scalar_type());
    PassOutput out;
    std::map<std::string, torch::Tensor> kept;
    auto x = on_device;
    std::size_t from = 0;
    if (prefix && pass == first_pass) {
      from = prefix->stage;
      x = prefix->x;
      kept = prefix->kept;
    }
    out.logits =
        run_stages(from, feedforward_->stage_count(), x, used, steering, record, out, kept);
    result.passes.push_back(std::move(out));
    state.kept = std::move(kept);
    state.passes_done = pass + 1;
  }
  result.state = std::move(state);
  return result;
}

}  // namespace lrm::model
