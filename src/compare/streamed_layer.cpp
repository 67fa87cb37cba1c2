#include "compare/streamed_layer.hpp"

#include <cmath>

#include "common/error.hpp"
#include "compare/unit_selection.hpp"

namespace lrm::compare {

std::vector<std::string> layer_stimulus_ids(const io::ActivationFile& file,
                                            const io::LayerPass& lp) {
  auto ids = file.stimulus_ids(lp.layer);
  const auto rows = file.shape(lp).stimuli;
  // An unfinished file's ids cover every stimulus; its complete rows are the first ones.
  if (file.partial_rows() && static_cast<std::int64_t>(ids.size()) > rows) ids.resize(rows);
  if (static_cast<std::int64_t>(ids.size()) != rows)
    throw InputError(file.path().string() + ":" + io::layer_path(lp.layer) + "/stimulus has " +
                     std::to_string(ids.size()) + " ids for " + std::to_string(rows) + " rows");
  return ids;
}

Eigen::MatrixXd layer_rdm(const io::ActivationFile& file, const io::LayerPass& lp, const Rows& rows,
                          RdmMethod method, std::int64_t memory, const Rows& units) {
  const UnitRows source(file, lp, rows, units);
  const std::string what = file.path().string() + ":" + lp.label();
  // The budget bounds the whole process: what it holds already (brain RDMs, say) is counted.
  return source.selection_order(rdm_of_rows(source, method, memory, what, resident_bytes()));
}

EncodingBenchmark::Result score_layer(const EncodingBenchmark& bench,
                                      const io::ActivationFile& file, const io::LayerPass& lp,
                                      std::int64_t memory, const std::string& name,
                                      const Rows& units) {
  const auto ids = layer_stimulus_ids(file, lp);
  auto shape = file.shape(lp);
  if (!units.empty()) shape.units = static_cast<std::int64_t>(units.size());
  const auto stimuli = bench.join(ids, name);
  const auto n = static_cast<Eigen::Index>(stimuli.model_rows.size());
  const std::string what = file.path().string() + ":" + lp.label();
  if (bench.metric().regression != Regression::pls && shape.units > n) {
    const UnitRows source(file, lp, stimuli.model_rows, units);
    return bench.score_gram(source.selection_order(streamed_gram(source, GramKind::shifted, memory,
                                                                 what, resident_bytes())),
                            stimuli);
  }
  const std::int64_t bytes = std::int64_t{4} * shape.stimuli * shape.units;
  if (bytes > memory)
    throw SettingError("memory", what + " needs " + std::to_string(bytes >> 20) +
                                     " MiB in memory for " +
                                     regression_name(bench.metric().regression) + ", more than " +
                                     std::to_string(memory >> 20) +
                                     " MiB (ridge and least squares stream layers with more "
                                     "features than stimuli)");
  auto a = read_units(file, lp, units);
  for (std::size_t i = 0; i < a.data.size(); ++i)
    if (!std::isfinite(a.data[i]))
      throw InputError(what + " has NaN or infinite activations (stimulus row " +
                       std::to_string(static_cast<std::int64_t>(i) / a.cols) + ")");
  const FeatureMatrix x(a.data.data(), a.rows, a.cols);
  return bench.score(x, ids, name);
}

}  // namespace lrm::compare
