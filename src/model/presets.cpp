#include "model/presets.hpp"

#include <iomanip>
#include <sstream>

#include "common/error.hpp"

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

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                std::int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad));
}

// The elements of a braced list are evaluated first to last, whereas constructor arguments are
// evaluated in an unspecified order (GCC: last first). The order decides which random draws
// initialise each layer, so built this way a seed gives the initial weights PyTorch gives.
nn::Sequential in_order(std::initializer_list<nn::AnyModule> layers) {
  nn::Sequential s;
  for (const auto& layer : layers) s->push_back(layer);
  return s;
}

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
  if (a.backbone != "alexnet" && a.backbone != "mnist")
    throw InputError("architecture record names an unknown backbone '" + a.backbone + "'");
  return a;
}

std::vector<std::string> preset_names() {
  return {"alexnet",   "alexnet-lrm1",       "alexnet-lrm2", "alexnet-lrm3",
          "mnist-lrm", "mnist-lrm-additive", "mnist-ff"};
}

Architecture preset(const std::string& name) {
  Architecture a;
  a.preset = name;
  if (name == "alexnet") {
    a.backbone = "alexnet";
  } else if (name.rfind("alexnet-lrm", 0) == 0 && name.size() == 12 && name[11] >= '1' &&
             name[11] <= '3') {
    a.backbone = "alexnet";
    a.pathways = lrm_pathways(name[11] - '0');
  } else if (name == "mnist-lrm" || name == "mnist-lrm-additive") {
    a.backbone = "mnist";
    a.pathways = lrm_pathways(3);
    if (name == "mnist-lrm-additive") a.motif = Motif::additive;
  } else if (name == "mnist-ff") {
    a.backbone = "mnist";
  } else {
    std::string valid;
    for (const auto& n : preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw InputError("unknown model '" + name + "'; valid presets: " + valid);
  }
  return a;
}

namespace {

// AlexNet's chain after its conv stack: the average pool to pooled×pooled, then dropout, fc,
// ReLU, dropout, fc, ReLU, fc (torchvision's module names and order).
Chain alexnet_layout(nn::Sequential features, std::int64_t channels, std::int64_t pooled,
                     std::int64_t hidden, double dropout, std::int64_t num_classes) {
  using L = nn::AnyModule;
  auto classifier =
      in_order({L(nn::Dropout(dropout)), L(nn::Linear(channels * pooled * pooled, hidden)),
                L(nn::ReLU()), L(nn::Dropout(dropout)), L(nn::Linear(hidden, hidden)),
                L(nn::ReLU()), L(nn::Linear(hidden, num_classes))});
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

std::int64_t default_num_classes(const std::string& backbone) {
  return backbone == "mnist" ? 10 : 1000;
}

std::vector<std::int64_t> probe_shape(const std::string& backbone) {
  if (backbone == "mnist") return {1, 28, 28};
  return {3, 224, 224};
}

LrmNet build(const Architecture& arch) {
  const auto classes = arch.num_classes > 0 ? arch.num_classes : default_num_classes(arch.backbone);
  Chain chain = arch.backbone == "mnist" ? mnist_backbone(classes) : alexnet_backbone(classes);
  return LrmNet(chain, arch.pathways, arch.motif, probe_shape(arch.backbone));
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
  std::ostringstream out;
  out << "input: " << shape_text(in, 1) << "\n\nlayers:\n";
  out << "  " << std::left << std::setw(16) << "name" << std::setw(20) << "type" << std::setw(16)
      << "output"
      << "parameters\n";
  for (std::size_t i = 0; i < net.backbone()->size(); ++i) {
    const auto& name = net.backbone()->layer_names()[i];
    std::int64_t n = 0;
    for (const auto& p : params)
      if (p.key().rfind(name + ".", 0) == 0) n += p.value().numel();
    out << "  " << std::setw(16) << name << std::setw(20) << net.backbone()->layer_type(i)
        << std::setw(16) << shape_text(result.passes[0].layers.at(name).sizes().vec(), 1) << n
        << "\n";
  }
  out << "\npathways (" << motif_names.name(net.motif()) << " motif):";
  if (net.pathways().empty()) out << " none";
  out << "\n";
  auto lrm = net.named_children();
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
