#include "model/checkpoint.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/text.hpp"
#include "model/device.hpp"
#include "model/pth_reader.hpp"

namespace lrm::model {
namespace {

const char* kArchitectureKey = "lrm_suite_architecture";

std::string shape_text(at::IntArrayRef s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "×" : "") + std::to_string(s[i]);
  return s.empty() ? "scalar" : out;
}

StateDict tensors_of(const PyObject& d, const std::filesystem::path& path, bool rewrite) {
  StateDict out;
  for (const auto& [k, v] : d.entries) {
    if (k->kind != PyObject::Kind::string)
      throw InputError("checkpoint " + path.string() + " has a non-string state-dict key");
    if (v->kind != PyObject::Kind::tensor)
      throw InputError("checkpoint " + path.string() + ": state-dict entry '" + k->string +
                       "' is not a tensor");
    out[rewrite ? rewrite_key(k->string) : k->string] = v->tensor;
  }
  return out;
}

}  // namespace

std::string rewrite_key(const std::string& key) {
  std::string k = key;
  for (auto pos = k.find("module."); pos != std::string::npos; pos = k.find("module."))
    k.erase(pos, 7);
  if (k.rfind("backbone.", 0) == 0) k = "feedforward." + k.substr(9);
  if (k.rfind("feedforward.", 0) != 0) {
    static const std::regex digits("features(\\d+)");
    k = std::regex_replace(k, digits, "features_$1");
  }
  return k;
}

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  auto top = read_torch_save(path);
  if (top->kind != PyObject::Kind::dict)
    throw InputError("checkpoint " + path.string() + " does not hold a state dict");
  Checkpoint ck;
  const auto& dict = *top;
  if (auto arch = dict.get(kArchitectureKey)) {
    ck.architecture = Architecture::parse(arch->string);
    if (auto meta = dict.get("meta"))
      for (const auto& [k, v] : meta->entries) ck.meta[k->string] = v->string;
    if (auto extra = dict.get("extra")) ck.extra = tensors_of(*extra, path, false);
  }
  for (const char* nest : {"state_dict", "model"}) {
    if (auto inner = dict.get(nest); inner && inner->kind == PyObject::Kind::dict) {
      ck.state = tensors_of(*inner, path, true);
      return ck;
    }
  }
  ck.state = tensors_of(dict, path, true);
  return ck;
}

void load_state_dict(torch::nn::Module& net, const StateDict& state, const std::string& source) {
  // A spatial feedback norm's C×H×W weight and bias are resized to the source at run time, so the
  // H×W they were made at (the destination's at the input size the model was built for, e.g. a
  // model trained at 64×64) may differ from this model's: take the checkpoint's.
  auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  for (auto& p : net.named_parameters()) {
    const auto& key = p.key();
    const bool norm =
        ends_with(key, ".rescale.norm.weight") || ends_with(key, ".rescale.norm.bias");
    auto it = state.find(key);
    if (norm && it != state.end() && it->second.dim() == 3 && p.value().dim() == 3 &&
        it->second.size(0) == p.value().size(0)) {
      torch::NoGradGuard no_grad;
      p.value().set_data(torch::empty(it->second.sizes(), p.value().options()));
    }
  }
  std::map<std::string, torch::Tensor> expected;
  for (const auto& p : net.named_parameters()) expected[p.key()] = p.value();
  for (const auto& b : net.named_buffers()) expected[b.key()] = b.value();
  std::vector<std::string> missing, unexpected, misshaped;
  for (const auto& [key, t] : expected) {
    auto it = state.find(key);
    if (it == state.end()) {
      missing.push_back(key);
    } else if (it->second.sizes() != t.sizes() && !(it->second.numel() == 1 && t.numel() == 1)) {
      misshaped.push_back(key + " (checkpoint " + shape_text(it->second.sizes()) + ", model " +
                          shape_text(t.sizes()) + ")");
    }
  }
  for (const auto& kv : state)
    if (!expected.count(kv.first)) unexpected.push_back(kv.first);
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    // A model of another backbone misses hundreds of keys: name the first key of each of the
    // first few modules (a feedback pathway's module for lrm.* keys).
    constexpr std::size_t kModules = 6;
    std::string msg = "checkpoint " + source + " does not fit the model (another architecture?)";
    auto module_of = [](const std::string& key) {
      if (key.rfind("lrm.", 0) == 0) return key.substr(0, key.find('.', key.find('.', 4) + 1));
      return key.substr(0, key.rfind('.'));
    };
    auto list = [&](const char* what, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      msg += std::string("; ") + what + " (" + std::to_string(keys.size()) + "): ";
      std::vector<std::string> modules;
      for (const auto& key : keys) {
        const auto m = module_of(key);
        if (std::find(modules.begin(), modules.end(), m) != modules.end()) continue;
        if (modules.size() == kModules) {
          msg += ", …";
          break;
        }
        msg += (modules.empty() ? "" : ", ") + key;
        modules.push_back(m);
      }
    };
    auto with_shape = [](const std::string& key, const torch::Tensor& t) {
      return key + " " + shape_text(t.sizes());
    };
    std::vector<std::string> missing_shaped, unexpected_shaped;
    for (const auto& key : missing) missing_shaped.push_back(with_shape(key, expected.at(key)));
    for (const auto& key : unexpected) unexpected_shaped.push_back(with_shape(key, state.at(key)));
    list("missing keys", missing_shaped);
    list("unexpected keys", unexpected_shaped);
    list("mis-shaped keys", misshaped);
    throw InputError(msg);
  }
  // A NaN or infinity in the weights would make every output non-finite; name the first one.
  std::vector<std::string> order;
  for (const auto& p : net.named_parameters()) order.push_back(p.key());
  for (const auto& b : net.named_buffers()) order.push_back(b.key());
  for (const auto& key : order) {
    check_interrupt();  // per tensor: the weights of a large model take seconds to check and copy
    const auto& t = state.at(key);
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>())
      throw InputError("checkpoint " + source + ": parameter " + key +
                       " holds NaN or infinite values");
  }
  torch::NoGradGuard no_grad;
  for (auto& [key, t] : expected) {
    check_interrupt();
    t.copy_(state.at(key).reshape(t.sizes()).to(t.dtype()));
  }
}

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& net,
                     const Architecture& arch, const std::map<std::string, std::string>& meta,
                     const StateDict& extra) {
  auto tensor_dict = [](const std::vector<std::pair<std::string, torch::Tensor>>& items) {
    c10::impl::GenericDict d(c10::StringType::get(), c10::TensorType::get());
    for (const auto& [k, v] : items) d.insert(k, v.detach().to(torch::kCPU).contiguous());
    return d;
  };
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& p : net.named_parameters()) state.emplace_back(p.key(), p.value());
  for (const auto& b : net.named_buffers()) state.emplace_back(b.key(), b.value());
  c10::impl::GenericDict top(c10::StringType::get(), c10::AnyType::get());
  top.insert(kArchitectureKey, arch.to_string());
  top.insert("state_dict", tensor_dict(state));
  c10::impl::GenericDict m(c10::StringType::get(), c10::StringType::get());
  for (const auto& [k, v] : meta) m.insert(k, v);
  top.insert("meta", m);
  top.insert("extra", tensor_dict({extra.begin(), extra.end()}));
  auto bytes = torch::pickle_save(c10::IValue(top));
  auto tmp = path;
  tmp += ".partial";
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      throw InputError("cannot create folder " + path.parent_path().string() + ": " + ec.message());
  }
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw InputError("cannot write checkpoint " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

namespace {

std::string pathway_text(const std::vector<Pathway>& pathways) {
  if (pathways.empty()) return "none";
  std::string out;
  for (const auto& p : pathways) out += (out.empty() ? "" : ",") + p.source + ":" + p.destination;
  return out;
}

// The architecture of a suite checkpoint, checked against what the command line asks for.
Architecture recorded_architecture(const Architecture& recorded, const ModelSpec& spec,
                                   const std::string& weights) {
  if (!spec.name.empty()) {
    const auto asked = architecture(spec);
    if (asked.backbone != recorded.backbone)
      throw InputError("checkpoint " + weights + " holds a " + recorded.backbone +
                       " model, not a " + asked.backbone + " (model '" + spec.name + "')");
    if (!(asked.pathways == recorded.pathways))
      throw SettingError(spec.feedback ? "feedback" : "model",
                         "checkpoint " + weights + " was trained with the pathways " +
                             pathway_text(recorded.pathways) + ", not " +
                             pathway_text(asked.pathways));
    if (asked.motif != recorded.motif)
      throw SettingError(spec.motif ? "motif" : "model",
                         "checkpoint " + weights + " was trained with the " +
                             motif_names.name(recorded.motif) + " motif");
  } else {
    if (spec.feedback && !(*spec.feedback == recorded.pathways))
      throw SettingError("feedback", "checkpoint " + weights + " was trained with the pathways " +
                                         pathway_text(recorded.pathways) + ", not " +
                                         pathway_text(*spec.feedback));
    if (spec.motif && *spec.motif != recorded.motif)
      throw SettingError("motif", "checkpoint " + weights + " was trained with the " +
                                      motif_names.name(recorded.motif) + " motif");
  }
  if (spec.num_classes > 0 && recorded.num_classes > 0 && spec.num_classes != recorded.num_classes)
    throw SettingError("num-classes", "checkpoint " + weights + " has " +
                                          std::to_string(recorded.num_classes) + " outputs");
  return recorded;
}

// A state dict of the backbone alone (torchvision's, CORnet's): no key of the LRM wrapper.
bool backbone_only(const StateDict& state) {
  return std::none_of(state.begin(), state.end(), [](const auto& kv) {
    return kv.first.rfind("feedforward.", 0) == 0 || kv.first.rfind("lrm.", 0) == 0;
  });
}

}  // namespace

LoadedModel load_model(const std::string& model, const std::string& weights, std::uint64_t seed) {
  LoadedModel out;
  const auto spec = ModelSpec::parse(model);
  Checkpoint ck;
  if (!weights.empty()) ck = read_checkpoint(weights);
  if (ck.architecture) {
    out.architecture = recorded_architecture(*ck.architecture, spec, weights);
    out.description = spec.name.empty() ? weights : spec.name;
  } else if (!spec.name.empty()) {
    out.architecture = architecture(spec);
    out.description = spec.name;
  } else if (weights.empty()) {
    throw SettingError("model", "no model given: give a preset and/or weights (a checkpoint)");
  } else {
    throw SettingError(
        "model", "checkpoint " + weights + " does not record its architecture; give a preset (" +
                     join(preset_names()) + ") or a backbone (" + join(backbone_names()) + ")");
  }
  torch::manual_seed(seed);
  out.net = build(out.architecture);
  if (!weights.empty()) {
    if (!ck.architecture && backbone_only(ck.state)) {
      // Backbone weights (torchvision, CORnet): the feedback parameters keep their seeded start.
      load_state_dict(*out.net->backbone(), ck.state, weights);
      if (!out.architecture.pathways.empty())
        out.description += " (feedback parameters initialised from the seed)";
    } else {
      load_state_dict(*out.net, ck.state, weights);
    }
  }
  out.meta = ck.meta;
  out.net->eval();
  out.net->to(compute().device);
  return out;
}

LoadedModel load_torchscript(const std::string& path, const std::string& model,
                             std::vector<std::int64_t> probe, std::uint64_t seed) {
  const auto spec = ModelSpec::parse(model);
  if (!spec.name.empty())
    throw SettingError("torchscript",
                       "excludes a model preset (the TorchScript file is the model)");
  LoadedModel m;
  torch::manual_seed(seed);
  m.architecture.backbone = "torchscript";
  m.architecture.pathways = spec.feedback.value_or(std::vector<Pathway>{});
  m.architecture.motif = spec.motif.value_or(Motif::multiplicative);
  m.net = LrmNet(Chain(ChainImpl::from_torchscript(path)), m.architecture.pathways,
                 m.architecture.motif, std::move(probe));
  m.description = path;
  m.net->eval();
  m.net->to(compute().device);
  return m;
}

}  // namespace lrm::model
