#include "model/presets.hpp"

#include <algorithm>
#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/text.hpp"
#include "model/backbones/backbones.hpp"

namespace lrm::model {
namespace nn = torch::nn;
namespace {

const std::vector<Pathway> kLrm1{{"classifier.6", "features.8"}, {"features.9", "features.0"}};
const std::vector<Pathway> kLrm2Extra{{"classifier.6", "features.10"},
                                      {"features.12", "features.3"}};
const std::vector<Pathway> kLrm3Extra{{"classifier.2", "features.6"}};

std::vector<Pathway> lrm_pathways(int level) {
  std::vector<Pathway> p = kLrm1;
  if (level >= 2) p.insert(p.end(), kLrm2Extra.begin(), kLrm2Extra.end());
  if (level >= 3) p.insert(p.end(), kLrm3Extra.begin(), kLrm3Extra.end());
  return p;
}

// Layers check for Ctrl-C before their random initialisation, the longest part of building a
// model (AlexNet's first fc layer: about a second on a loaded machine).
nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                std::int64_t pad) {
  check_interrupt();
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad));
}

nn::Linear linear(std::int64_t in, std::int64_t out) {
  check_interrupt();
  return nn::Linear(in, out);
}

// The elements of a braced list are evaluated first to last, whereas constructor arguments are
// evaluated in an unspecified order (GCC: last first). The order decides which random draws
// initialise each layer, so built this way a seed gives the initial weights PyTorch gives.
nn::Sequential in_order(std::initializer_list<nn::AnyModule> layers) {
  nn::Sequential s;
  for (const auto& layer : layers) s->push_back(layer);
  return s;
}

// `text` padded with spaces to `width` characters (not bytes: shapes hold the two-byte ×).
std::string padded(const std::string& text, std::size_t width) {
  std::size_t chars = 0;
  for (unsigned char ch : text) chars += (ch & 0xC0) != 0x80;
  return text + std::string(width > chars ? width - chars : 1, ' ');
}

std::string list_text(const std::vector<std::string>& names) { return join(names); }

std::string shape_text(const std::vector<std::int64_t>& s, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < s.size(); ++i) out += (i > from ? "×" : "") + std::to_string(s[i]);
  return out;
}

}  // namespace

std::string Architecture::to_string() const {
  std::string out = "backbone=" + backbone + ";motif=" + motif_names.name(motif) +
                    ";preset=" + preset + ";pathways=";
  for (std::size_t i = 0; i < pathways.size(); ++i)
    out += (i ? "," : "") + pathways[i].source + ">" + pathways[i].destination;
  if (num_classes > 0) out += ";classes=" + std::to_string(num_classes);
  return out;
}

Architecture Architecture::parse(const std::string& text) {
  Architecture a;
  std::stringstream fields(text);
  std::string field;
  while (std::getline(fields, field, ';')) {
    auto eq = field.find('=');
    if (eq == std::string::npos) throw InputError("bad architecture record '" + text + "'");
    auto key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "backbone")
      a.backbone = value;
    else if (key == "motif")
      a.motif = motif_names.parse(value, "motif");
    else if (key == "preset")
      a.preset = value;
    else if (key == "classes") {
      try {
        a.num_classes = std::stoll(value);
      } catch (const std::exception&) {
        a.num_classes = 0;
      }
      if (a.num_classes <= 0)
        throw InputError("bad class count in architecture record '" + text + "'");
    } else if (key == "pathways") {
      std::stringstream items(value);
      std::string item;
      while (std::getline(items, item, ',')) {
        auto gt = item.find('>');
        if (gt == std::string::npos)
          throw InputError("bad pathway '" + item + "' in architecture record");
        a.pathways.push_back({item.substr(0, gt), item.substr(gt + 1)});
      }
    }
  }
  const auto backbones = backbone_names();
  if (std::find(backbones.begin(), backbones.end(), a.backbone) == backbones.end())
    throw InputError("architecture record names an unknown backbone '" + a.backbone + "'");
  return a;
}

std::vector<std::string> preset_names() {
  return {"alexnet",   "alexnet-lrm1",       "alexnet-lrm2", "alexnet-lrm3",
          "mnist-lrm", "mnist-lrm-additive", "mnist-ff"};
}

std::vector<std::string> backbone_names() {
  std::vector<std::string> out{"alexnet"};
  for (const char* depth : {"11", "13", "16", "19"})
    for (const char* variant : {"", "_bn"}) out.push_back(std::string("vgg") + depth + variant);
  for (const char* depth : {"18", "34", "50", "101", "152"})
    out.push_back(std::string("resnet") + depth);
  out.insert(out.end(), {"cornet_z", "cornet_s", "mnist"});
  return out;
}

std::vector<Pathway> parse_pathways(const std::string& text, const std::string& setting) {
  std::vector<Pathway> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto colon = item.find(':');
    if (colon == std::string::npos) {
      if (item.size() == 4 && item.rfind("lrm", 0) == 0 && item[3] >= '1' && item[3] <= '3') {
        for (const auto& p : lrm_pathways(item[3] - '0')) out.push_back(p);
        continue;
      }
      throw SettingError(setting, "'" + item +
                                      "' is neither source:destination nor a pathway set "
                                      "(lrm1, lrm2, lrm3)");
    }
    if (colon == 0 || colon + 1 == item.size() || item.find(':', colon + 1) != std::string::npos)
      throw SettingError(setting, "'" + item + "' is not source:destination (two module names)");
    out.push_back({item.substr(0, colon), item.substr(colon + 1)});
  }
  if (out.empty()) throw SettingError(setting, "no pathways given");
  return out;
}

ModelSpec ModelSpec::parse(const std::string& text) {
  ModelSpec spec;
  std::stringstream fields(text);
  std::string field;
  std::getline(fields, spec.name, ';');
  while (std::getline(fields, field, ';')) {
    const auto eq = field.find('=');
    const auto key = field.substr(0, eq),
               value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (key == "feedback") {
      auto more = parse_pathways(value, "feedback");
      if (!spec.feedback) spec.feedback.emplace();
      spec.feedback->insert(spec.feedback->end(), more.begin(), more.end());
    } else if (key == "motif") {
      spec.motif = motif_names.parse(value, "motif");
    } else if (key == "classes") {
      try {
        spec.num_classes = std::stoll(value);
      } catch (const std::exception&) {
        spec.num_classes = 0;
      }
      if (spec.num_classes <= 0) throw SettingError("num-classes", "'" + value + "' is not ≥ 1");
    } else {
      throw SettingError("model", "'" + field + "' in '" + text +
                                      "' is not feedback=..., motif=... or classes=...");
    }
  }
  return spec;
}

Architecture architecture(const ModelSpec& spec) {
  Architecture a;
  a.preset = spec.name;
  const auto& name = spec.name;
  const auto backbones = backbone_names();
  if (name.rfind("alexnet-lrm", 0) == 0 && name.size() == 12 && name[11] >= '1' &&
      name[11] <= '3') {
    a.backbone = "alexnet";
    a.pathways = lrm_pathways(name[11] - '0');
  } else if (name == "mnist-lrm" || name == "mnist-lrm-additive") {
    a.backbone = "mnist";
    a.pathways = lrm_pathways(3);
    if (name == "mnist-lrm-additive") a.motif = Motif::additive;
  } else if (name == "mnist-ff") {
    a.backbone = "mnist";
  } else if (std::find(backbones.begin(), backbones.end(), name) != backbones.end()) {
    a.backbone = name;
  } else {
    throw InputError("unknown model '" + name + "'; valid presets: " + list_text(preset_names()) +
                     "; backbones: " + list_text(backbones));
  }
  if (spec.feedback) {
    if (!a.pathways.empty())
      throw SettingError("feedback", "model " + name +
                                         " already names its pathways; give its backbone " +
                                         a.backbone + " with these pathways instead");
    a.pathways = *spec.feedback;
    a.preset = a.backbone;
  }
  if (spec.motif) a.motif = *spec.motif;
  a.num_classes = spec.num_classes;
  return a;
}

Architecture preset(const std::string& spec) { return architecture(ModelSpec::parse(spec)); }

namespace {

// AlexNet's chain after its conv stack: the average pool to pooled×pooled, then dropout, fc,
// ReLU, dropout, fc, ReLU, fc (torchvision's module names and order).
Chain alexnet_layout(nn::Sequential features, std::int64_t channels, std::int64_t pooled,
                     std::int64_t hidden, double dropout, std::int64_t num_classes) {
  using L = nn::AnyModule;
  auto classifier =
      in_order({L(nn::Dropout(dropout)), L(linear(channels * pooled * pooled, hidden)),
                L(nn::ReLU()), L(nn::Dropout(dropout)), L(linear(hidden, hidden)), L(nn::ReLU()),
                L(linear(hidden, num_classes))});
  Chain chain;
  chain->add_block("features", features);
  chain->add("avgpool",
             nn::AnyModule(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({pooled, pooled}))));
  chain->add_block("classifier", classifier, /*flatten_input=*/true);
  return chain;
}

}  // namespace

Chain alexnet_backbone(std::int64_t num_classes) {
  using L = nn::AnyModule;
  auto pool = [] { return L(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2))); };
  auto features = in_order({L(conv(3, 64, 11, 4, 2)), L(nn::ReLU()), pool(),
                            L(conv(64, 192, 5, 1, 2)), L(nn::ReLU()), pool(),
                            L(conv(192, 384, 3, 1, 1)), L(nn::ReLU()), L(conv(384, 256, 3, 1, 1)),
                            L(nn::ReLU()), L(conv(256, 256, 3, 1, 1)), L(nn::ReLU()), pool()});
  return alexnet_layout(features, 256, 6, 4096, 0.5, num_classes);
}

// AlexNet's layout scaled down for 28×28 digits: 28 → 14 → 7 → 3 spatially.
Chain mnist_backbone(std::int64_t num_classes) {
  using L = nn::AnyModule;
  auto pool = [] { return L(nn::MaxPool2d(nn::MaxPool2dOptions(2))); };
  auto features = in_order({L(conv(1, 16, 5, 1, 2)), L(nn::ReLU()), pool(),
                            L(conv(16, 32, 3, 1, 1)), L(nn::ReLU()), pool(),
                            L(conv(32, 48, 3, 1, 1)), L(nn::ReLU()), L(conv(48, 32, 3, 1, 1)),
                            L(nn::ReLU()), L(conv(32, 32, 3, 1, 1)), L(nn::ReLU()), pool()});
  return alexnet_layout(features, 32, 3, 128, 0.1, num_classes);
}

Chain make_backbone(const std::string& backbone, std::int64_t num_classes) {
  if (backbone == "alexnet") return alexnet_backbone(num_classes);
  if (backbone == "mnist") return mnist_backbone(num_classes);
  if (backbone == "cornet_z") return backbones::cornet_z(num_classes);
  if (backbone == "cornet_s") return backbones::cornet_s(num_classes);
  if (backbone.rfind("resnet", 0) == 0)
    return backbones::resnet(std::stoi(backbone.substr(6)), num_classes);
  if (backbone.rfind("vgg", 0) == 0) {
    const bool bn = backbone.size() > 3 && backbone.compare(backbone.size() - 3, 3, "_bn") == 0;
    return backbones::vgg(std::stoi(backbone.substr(3)), bn, num_classes);
  }
  throw InputError("unknown backbone '" + backbone +
                   "'; backbones: " + list_text(backbone_names()));
}

std::int64_t default_num_classes(const std::string& backbone) {
  return backbone == "mnist" ? 10 : 1000;
}

std::vector<std::int64_t> probe_shape(const std::string& backbone) {
  if (backbone == "mnist") return {1, 28, 28};
  return {3, 224, 224};
}

LrmNet build(const Architecture& arch) {
  const auto classes = arch.num_classes > 0 ? arch.num_classes : default_num_classes(arch.backbone);
  return LrmNet(make_backbone(arch.backbone, classes), arch.pathways, arch.motif,
                probe_shape(arch.backbone));
}

std::int64_t parameter_count(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

std::string describe(LrmNetImpl& net, const std::vector<std::int64_t>& input_shape) {
  torch::NoGradGuard no_grad;
  const bool was_training = net.is_training();
  net.eval();
  Record record;
  record.layers.insert(net.backbone()->layer_names().begin(), net.backbone()->layer_names().end());
  std::vector<std::int64_t> in{1};
  in.insert(in.end(), input_shape.begin(), input_shape.end());
  auto result = net.forward(torch::zeros(in), 1, nullptr, record);
  net.train(was_training);

  auto params = net.backbone()->named_parameters();
  const auto& names = net.backbone()->layer_names();
  std::size_t width = 16;
  for (const auto& name : names) width = std::max(width, name.size() + 2);
  std::ostringstream out;
  out << "input: " << shape_text(in, 1) << "\n\nlayers:\n";
  out << "  " << padded("name", width) << padded("type", 20) << padded("output", 16)
      << "parameters\n";
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::int64_t n = 0;
    for (const auto& p : params)
      if (p.key().rfind(names[i] + ".", 0) == 0) n += p.value().numel();
    auto shape = result.passes[0].layers.find(names[i]);
    out << "  " << padded(names[i], width) << padded(net.backbone()->layer_type(i), 20)
        << padded(shape == result.passes[0].layers.end()
                      ? std::string("-")
                      : shape_text(shape->second.sizes().vec(), 1),
                  16)
        << n << "\n";
  }
  out << "\npathways (" << motif_names.name(net.motif()) << " motif):";
  if (net.pathways().empty()) out << " none";
  out << "\n";
  std::int64_t feedback = 0;
  for (const auto& c : net.named_children())
    if (c.key() == "lrm") feedback = parameter_count(*c.value());
  for (const auto& p : net.pathways()) {
    std::int64_t n = 0;
    const auto prefix = "lrm." + pathway_module_name(p) + ".";
    for (const auto& q : net.named_parameters())
      if (q.key().rfind(prefix, 0) == 0) n += q.value().numel();
    out << "  " << p.source << " -> " << p.destination << "  (" << n << " parameters)\n";
  }
  const auto backbone = parameter_count(*net.backbone());
  out << "\nparameters: " << backbone + feedback << " (feedforward " << backbone << ", feedback "
      << feedback << ")\n";
  return out.str();
}

}  // namespace lrm::model
