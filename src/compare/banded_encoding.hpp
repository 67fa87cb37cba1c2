#pragma once
// `lrm compare encode --regression banded`: one banded ridge model over feature groups (each
// selected layer x pass a group, from one activation file) scored as the encoding benchmark scores
// a layer, with each group's penalty per neuroid (voxel); results in /banded, and NIfTI maps of r
// and of each group's penalty when the responses are NIfTI betas.
#include <string>
#include <vector>

#include "compare/compare_file.hpp"
#include "io/h5.hpp"

namespace lrm::compare {

// Writes /banded; returns the summary lines (the model, its groups' penalties, the ceiling).
std::vector<std::string> run_banded_encoding(const EncodeOptions& options, const h5::Group& root);

}  // namespace lrm::compare
