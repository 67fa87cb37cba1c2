#pragma once
// Imports the 92 images of Kriegeskorte et al. (2008) from the rsatoolbox demo file
// Kriegeskorte_Neuron2008_supplementalData.mat (struct array stimuli_92objs, uint8 175x175x3),
// in the order of the published RDMs, so model RDMs line up with the brain RDMs.
#include <filesystem>

#include "stimuli/set_writer.hpp"

namespace lrm::stimuli {

// Ids kriegeskorte92-001 .. -092; category from the .category field (human face, ...);
// grayscale: ITU-R BT.601 luma, stored as (stimulus, y, x); else (stimulus, channel, y, x).
ImageTable read_kriegeskorte_mat(const std::filesystem::path& mat, bool grayscale);

}  // namespace lrm::stimuli
