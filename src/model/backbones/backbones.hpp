#pragma once
// The ConvNets the field scores against the brain, with their reference code's module names so
// that published state dicts load one-to-one: torchvision's VGG and ResNet, dicarlolab's CORnet.
#include <cstdint>

#include "model/lrm_net.hpp"

namespace lrm::model::backbones {

// VGG-11/13/16/19 (depth), with batch norm after every conv when batch_norm.
Chain vgg(int depth, bool batch_norm, std::int64_t num_classes);
// ResNet-18/34 (BasicBlock) and ResNet-50/101/152 (Bottleneck, torchvision's v1.5 stride).
Chain resnet(int depth, std::int64_t num_classes);
// CORnet-Z: V1, V2, V4, IT (conv, nonlin, pool, output), decoder (avgpool, flatten, linear).
Chain cornet_z(std::int64_t num_classes);
// CORnet-S: V1 (Sequential), recurrent V2 (2 steps), V4 (4), IT (2), decoder.
Chain cornet_s(std::int64_t num_classes);

}  // namespace lrm::model::backbones
