#include "model/checkpoint.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/error.hpp"
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
    std::string msg = "checkpoint " + source + " does not fit the model (another architecture?)";
    auto list = [&](const char* what, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      msg += std::string("; ") + what + " (" + std::to_string(keys.size()) + "): ";
      for (std::size_t i = 0; i < keys.size(); ++i) msg += (i ? ", " : "") + keys[i];
    };
    list("missing keys", missing);
    list("unexpected keys", unexpected);
    list("mis-shaped keys", misshaped);
    throw InputError(msg);
  }
  // A NaN or infinity in the weights would make every output non-finite; name the first one.
  std::vector<std::string> order;
  for (const auto& p : net.named_parameters()) order.push_back(p.key());
  for (const auto& b : net.named_buffers()) order.push_back(b.key());
  for (const auto& key : order) {
    const auto& t = state.at(key);
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>())
      throw InputError("checkpoint " + source + ": parameter " + key +
                       " holds NaN or infinite values");
  }
  torch::NoGradGuard no_grad;
  for (auto& [key, t] : expected) t.copy_(state.at(key).reshape(t.sizes()).to(t.dtype()));
}

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& net,
                     const Architecture& arch, const std::map<std::string, std::string>& meta,
                     const StateDict& extra) {
  auto tensor_dict = [](const std::vector<std::pair<std::string, torch::Tensor>>& items) {
    c10::impl::GenericDict d(c10::StringType::get(), c10::TensorType::get());
    for (const auto& [k, v] : items) d.insert(k, v.detach().contiguous());
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

LoadedModel load_model(const std::string& model, const std::string& weights, std::uint64_t seed) {
  LoadedModel out;
  Checkpoint ck;
  if (!weights.empty()) ck = read_checkpoint(weights);
  if (!model.empty()) {
    out.architecture = preset(model);
    out.description = model;
    if (ck.architecture && (ck.architecture->backbone != out.architecture.backbone ||
                            !(ck.architecture->pathways == out.architecture.pathways) ||
                            ck.architecture->motif != out.architecture.motif))
      throw InputError("checkpoint " + weights + " is for another architecture (" +
                       ck.architecture->to_string() + ") than model '" + model + "'");
    if (ck.architecture) out.architecture.num_classes = ck.architecture->num_classes;
  } else if (ck.architecture) {
    out.architecture = *ck.architecture;
    out.description = weights;
  } else if (weights.empty()) {
    throw SettingError("model", "no model given: give a preset and/or weights (a checkpoint)");
  } else {
    std::string valid;
    for (const auto& n : preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw SettingError("model", "checkpoint " + weights +
                                    " does not record its architecture; give a preset (" + valid +
                                    ")");
  }
  torch::manual_seed(seed);
  out.net = build(out.architecture);
  if (!weights.empty()) load_state_dict(*out.net, ck.state, weights);
  out.meta = ck.meta;
  out.net->eval();
  return out;
}

}  // namespace lrm::model
