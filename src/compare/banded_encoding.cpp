#include "compare/banded_encoding.hpp"

#include <cmath>
#include <cstdio>
#include <optional>

#include "common/error.hpp"
#include "compare/gram.hpp"
#include "compare/resampling.hpp"
#include "compare/streamed_layer.hpp"
#include "compare/unit_selection.hpp"
#include "io/assembly.hpp"
#include "io/nifti.hpp"

namespace lrm::compare {
namespace {

using io::LayerPass;

// The feature groups' common stimulus ids: every group must have the first one's, in order.
std::vector<std::string> common_ids(const io::ActivationFile& file,
                                    const std::vector<UnitSet>& groups) {
  const auto ids = layer_stimulus_ids(file, groups[0].lp);
  for (std::size_t g = 1; g < groups.size(); ++g) {
    const auto other = layer_stimulus_ids(file, groups[g].lp);
    if (other == ids) continue;
    std::size_t i = 0;
    while (i < ids.size() && i < other.size() && ids[i] == other[i]) ++i;
    const std::string where =
        i < ids.size() && i < other.size()
            ? "row " + std::to_string(i) + " is '" + other[i] + "', not '" + ids[i] + "'"
            : std::to_string(other.size()) + " stimuli, not " + std::to_string(ids.size());
    throw InputError(file.path().string() + ": banded ridge needs the same stimuli in every " +
                     "feature group; " + groups[g].model.label() + " differs from " +
                     groups[0].model.label() + " (" + where + ")");
  }
  return ids;
}

// The responses averaged over repetitions, with the activation file's categories when they have
// none of their own (so that splits stay stratified). A volume's are moved out: the rest of it
// (grid, ROIs) is what is used later.
io::NeuralResponses responses_of(const EncodeOptions& o, const io::ActivationFile& file,
                                 const LayerPass& first, std::optional<BrainVolume>& volume) {
  if (volume) return std::move(volume->responses);
  auto responses = io::group_responses(io::read_assembly_spec(o.brain), o.response_options);
  const auto categories = file.categories(first.layer);
  if (!responses.categories.empty() || categories.empty()) return responses;
  const auto join = io::join_stimuli(layer_stimulus_ids(file, first), file.path().string(),
                                     responses.stimulus_ids, responses.source);
  for (auto row : join.model_rows) responses.categories.push_back(categories[row]);
  return responses;
}

// Each group's Gram over the joined stimuli, streamed within the budget (the grams kept so far
// counted against it).
std::vector<Eigen::MatrixXd> group_grams(const io::ActivationFile& file,
                                         const std::vector<UnitSet>& groups,
                                         const io::StimulusJoin& join, std::int64_t memory) {
  std::vector<Eigen::MatrixXd> grams;
  for (const auto& set : groups) {
    const UnitRows source(file, set.lp, join.model_rows, set.units);
    const LayerPass& lp = set.model;
    grams.push_back(source.selection_order(streamed_gram(source, GramKind::shifted, memory,
                                                         file.path().string() + ":" + lp.label(),
                                                         resident_bytes())));
  }
  return grams;
}

// Per group and neuroid, the geometric mean of the penalty over splits.
Eigen::MatrixXd mean_penalty(const std::vector<Eigen::MatrixXd>& per_split) {
  Eigen::MatrixXd log_sum = Eigen::MatrixXd::Zero(per_split[0].rows(), per_split[0].cols());
  for (const auto& p : per_split) log_sum.array() += p.array().log();
  return (log_sum.array() / static_cast<double>(per_split.size())).exp();
}

void write_results(const h5::Group& g, const EncodeOptions& o, const EncodingBenchmark& bench,
                   const std::vector<UnitSet>& groups, const EncodingBenchmark::Result& result) {
  const auto& p = result.predictivity;
  g.set_attr("brain", o.brain);
  g.set_attr("brain_source", bench.responses().source);
  g.set_attr("regression", std::string(regression_name(Regression::banded)));
  g.set_attr("n_iter", static_cast<std::int64_t>(o.metric.n_iter));
  g.set_attr("inner_folds", static_cast<std::int64_t>(BandedRidgeOptions{}.folds));
  g.set_attr("seed", static_cast<std::int64_t>(o.metric.seed));
  std::vector<std::string> labels;
  for (const auto& set : groups) labels.push_back(set.model.label());
  h5::write_coordinate(g, "group", labels);
  write_unit_sets(g, o.units, groups, "group");
  h5::write_coordinate(g, "neuroid", bench.responses().neuroid_ids);
  std::vector<std::int64_t> splits;
  for (Eigen::Index s = 0; s < p.r.rows(); ++s) splits.push_back(s);
  h5::write_coordinate(g, "split", splits);
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = p.r;
  h5::write_array(g, "r", r.data(), {splits.size(), static_cast<std::uint64_t>(r.cols())},
                  {"split", "neuroid"});
  std::vector<double> penalty;  // (split, group, neuroid)
  for (const auto& m : p.group_penalty)
    for (Eigen::Index k = 0; k < m.rows(); ++k)
      for (Eigen::Index j = 0; j < m.cols(); ++j) penalty.push_back(m(k, j));
  h5::write_array(g, "penalty", penalty,
                  {splits.size(), labels.size(), static_cast<std::uint64_t>(r.cols())},
                  {"split", "group", "neuroid"});
  h5::write_scalar(g, "score_raw", result.score.raw);
  h5::write_scalar(g, "score_error", p.error);
  h5::write_scalar(g, "score_ceiled", result.score.ceiled);
  h5::write_scalar(g, "ceiling", result.score.ceiling);
  const Eigen::VectorXd& ceiling = bench.ceiling().per_neuroid;
  h5::write_array(g, "ceiling_per_neuroid", ceiling.data(),
                  {static_cast<std::uint64_t>(ceiling.size())}, {"neuroid"});
}

std::string median_of(const Eigen::VectorXd& v) {
  std::vector<double> finite;
  for (double x : v)
    if (std::isfinite(x)) finite.push_back(x);
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", finite.empty() ? std::nan("") : percentile(finite, 50));
  return text;
}

}  // namespace

std::vector<std::string> run_banded_encoding(const EncodeOptions& o, const h5::Group& root) {
  const io::ActivationFile file(o.activations, o.allow_partial);
  const auto groups = unit_sets(o.units, file, o.layers, o.passes, o.metric.seed);
  if (groups.size() < 2)
    throw SettingError("regression",
                       "banded needs at least 2 feature groups (layers x passes, or unit sets); "
                       "the selection has only " +
                           groups[0].model.label());
  std::optional<BrainVolume> volume;
  if (io::is_nifti_path(o.brain)) volume = load_brain_volume(o.volume);
  if (!o.write_nifti.empty() && !volume)
    throw SettingError("write-nifti", "needs NIfTI betas as the brain data");
  if (!volume && (!o.volume.trials.empty() || !o.volume.rois.empty()))
    throw SettingError(o.volume.trials.empty() ? "roi" : "trials",
                       "applies to NIfTI betas (.nii, .nii.gz) as the brain data only");
  const auto ids = common_ids(file, groups);
  const EncodingBenchmark bench(responses_of(o, file, groups[0].lp, volume), o.metric, o.halvings);
  const auto join = bench.join(ids, file.path().string());
  const auto result = bench.score_banded(group_grams(file, groups, join, o.memory), join);
  auto g = root.require_group("banded");
  file.record_partial_rows(g);
  g.set_attr("stimulus_match", join.matched_by);
  write_results(g, o, bench, groups, result);
  if (volume) write_grid(g, *volume);
  const Eigen::MatrixXd penalty = mean_penalty(result.predictivity.group_penalty);
  char line[240];
  std::snprintf(line, sizeof line,
                "banded ridge over %zu groups: r = %.4f ± %.4f, ceiling %.4f, r/c = %.4f",
                groups.size(), result.score.raw, result.predictivity.error, result.score.ceiling,
                result.score.ceiled);
  std::vector<std::string> lines{line};
  std::vector<std::string> names{"banded_r"};
  std::vector<Eigen::VectorXd> maps{result.predictivity.r.colwise().mean().transpose()};
  for (std::size_t k = 0; k < groups.size(); ++k) {
    const Eigen::VectorXd group = penalty.row(static_cast<Eigen::Index>(k)).transpose();
    const LayerPass& lp = groups[k].model;
    lines.push_back("  " + lp.label() + ": median penalty " + median_of(group));
    names.push_back("banded_" + map_stem(lp) + "_penalty");
    maps.push_back(group);
  }
  if (volume) {
    const auto scores = roi_scores(result.predictivity.r, volume->roi_neuroids);
    for (std::size_t k = 0; k < scores.size(); ++k)
      lines.push_back("  ROI " + volume->roi_names[k] + ": " + std::to_string(scores[k]));
    if (!volume->roi_names.empty()) {
      h5::write_coordinate(g, "roi", volume->roi_names);
      h5::write_array(g, "roi_score", scores, {scores.size()}, {"roi"});
    }
  }
  if (!o.write_nifti.empty()) write_voxel_maps(o.write_nifti, *volume, names, maps);
  return lines;
}

}  // namespace lrm::compare
