#pragma once
// Named architectures: backbones (AlexNet, VGG, ResNet, CORnet, the small MNIST AlexNet) with
// feedback pathways between any of their named modules; the paper's AlexNet-LRM presets are named
// pathway sets on alexnet.
#include <optional>
#include <string>
#include <vector>

#include "model/lrm_net.hpp"

namespace lrm::model {

// What a checkpoint of the suite records so that `--weights` alone rebuilds the model.
struct Architecture {
  std::string backbone;  // one of backbone_names()
  std::vector<Pathway> pathways;
  Motif motif = Motif::multiplicative;
  std::string preset;            // the preset it came from, if any
  std::int64_t num_classes = 0;  // outputs; 0: the backbone's (MNIST 10, ImageNet 1000)
  // "backbone=...;motif=...;preset=...;pathways=src>dst,..." and ";classes=N" unless 0.
  std::string to_string() const;
  static Architecture parse(const std::string& text);
};

// What a command asks for: a model name (a preset or a backbone) and the feedback pathways,
// motif and output count its options give. Commands pass it on as one text,
// "name;feedback=src:dst,...;motif=additive;classes=N" (every part but the name optional; the name
// may be empty when a suite checkpoint records the architecture).
struct ModelSpec {
  std::string name;
  std::optional<std::vector<Pathway>> feedback;
  std::optional<Motif> motif;
  std::int64_t num_classes = 0;  // 0: the checkpoint's or the backbone's
  static ModelSpec parse(const std::string& text);
};

// alexnet, alexnet-lrm1, alexnet-lrm2, alexnet-lrm3, mnist-lrm, mnist-lrm-additive, mnist-ff.
std::vector<std::string> preset_names();
// alexnet, vgg11, vgg11_bn, ..., vgg19_bn, resnet18, ..., resnet152, cornet_z, cornet_s, mnist.
std::vector<std::string> backbone_names();
// `source:destination,...`; an item without a colon names a pathway set of alexnet and mnist
// (lrm1, lrm2, lrm3). SettingError under `setting` for a malformed item.
std::vector<Pathway> parse_pathways(const std::string& text, const std::string& setting);
// The architecture of a preset, a backbone or a full model spec text (ModelSpec) with a name;
// InputError listing the presets and backbones if the name is unknown.
Architecture preset(const std::string& spec);
Architecture architecture(const ModelSpec& spec);

Chain alexnet_backbone(std::int64_t num_classes = 1000);
// 28×28 digits, 1 channel; AlexNet's layer names (features.0..12, avgpool, classifier.0..6).
Chain mnist_backbone(std::int64_t num_classes = 10);
// Backbone `backbone` (a name of backbone_names()) with `num_classes` outputs.
Chain make_backbone(const std::string& backbone, std::int64_t num_classes);
// The backbone's own output count (mnist 10, the ImageNet backbones 1000).
std::int64_t default_num_classes(const std::string& backbone);
// Input shape (C×H×W) the backbone's models were designed for.
std::vector<std::int64_t> probe_shape(const std::string& backbone);
// Builds the network (random init; the RNG is seeded by the caller).
LrmNet build(const Architecture& arch);

// Parameter count of a module tree.
std::int64_t parameter_count(torch::nn::Module& m);
// Text for `lrm model info`: layers with output shapes at C×H×W, pathways, parameter counts.
std::string describe(LrmNetImpl& net, const std::vector<std::int64_t>& input_shape);

}  // namespace lrm::model
