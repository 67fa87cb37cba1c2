#pragma once
// One layer and pass of an activation file through the RDMs and the encoding metric with memory
// bounded by a budget (--memory), not by the layer: the stimulus x stimulus products stream from
// the file (compare/gram.hpp), and the features are held whole only where a method needs them
// (PLS, or fewer features than stimuli) and they fit.
#include <cstdint>
#include <string>
#include <vector>

#include "compare/encoding.hpp"
#include "compare/rdm.hpp"
#include "io/activation_file.hpp"

namespace lrm::compare {

// The layer's stimulus ids, one per row read (an InputError naming the file otherwise).
std::vector<std::string> layer_stimulus_ids(const io::ActivationFile& file,
                                            const io::LayerPass& lp);

// The RDM of the stimuli at the file rows `rows` (in that order), over the unit columns `units`
// (empty: all).
Eigen::MatrixXd layer_rdm(const io::ActivationFile& file, const io::LayerPass& lp, const Rows& rows,
                          RdmMethod method, std::int64_t memory, const Rows& units = {});

// The benchmark's score of the layer: ridge and least squares in their kernel form from a
// streamed Gram where the layer has more features than joined stimuli; otherwise the features in
// memory, refused (a SettingError of "memory") when they do not fit the budget. `units`: the unit
// columns used (empty: all).
EncodingBenchmark::Result score_layer(const EncodingBenchmark& bench,
                                      const io::ActivationFile& file, const io::LayerPass& lp,
                                      std::int64_t memory, const std::string& name,
                                      const Rows& units = {});

}  // namespace lrm::compare
