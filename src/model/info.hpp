#pragma once
// `lrm model info` (kept free of LibTorch headers so the CLI compiles fast).
#include <string>

namespace lrm::model {

// Layers with output shapes at 3×height×width (1 channel for the MNIST models), pathways and
// parameter counts of a preset or a checkpoint (a suite checkpoint, or `preset` + a .pth file).
std::string model_info(const std::string& model, const std::string& weights, int height, int width);

}  // namespace lrm::model

namespace lrm::model {

// Median seconds of one no-grad forward call (`passes` passes, random weights and inputs, batch
// of `batch` images at the model's input size), after one warm-up call; for benchmarks.
double benchmark_forward(const std::string& model, int batch, int passes, int repeats);

}  // namespace lrm::model
