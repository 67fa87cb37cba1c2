#pragma once
// Named architectures: the paper's AlexNet family and the embedded MNIST models.
#include <string>
#include <vector>

#include "model/lrm_net.hpp"

namespace lrm::model {

// What a checkpoint of the suite records so that `--weights` alone rebuilds the model.
struct Architecture {
  std::string backbone;  // "alexnet" | "mnist"
  std::vector<Pathway> pathways;
  Motif motif = Motif::multiplicative;
  std::string preset;            // the preset it came from, if any
  std::int64_t num_classes = 0;  // outputs; 0: the backbone's (MNIST 10, ImageNet 1000)
  // "backbone=...;motif=...;preset=...;pathways=src>dst,..." and ";classes=N" unless 0.
  std::string to_string() const;
  static Architecture parse(const std::string& text);
};

// alexnet, alexnet-lrm1, alexnet-lrm2, alexnet-lrm3, mnist-lrm, mnist-lrm-additive, mnist-ff.
std::vector<std::string> preset_names();
Architecture preset(const std::string& name);  // InputError listing the presets if unknown

Chain alexnet_backbone(std::int64_t num_classes = 1000);
// 28×28 digits, 1 channel; AlexNet's layer names (features.0..12, avgpool, classifier.0..6).
Chain mnist_backbone(std::int64_t num_classes = 10);
// The backbone's own output count (mnist 10, alexnet 1000).
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
