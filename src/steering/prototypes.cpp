#include "steering/prototypes.hpp"

#include <map>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/results.hpp"
#include "model/device.hpp"
#include "steering/vectors.hpp"
#include "stimuli/batch_stream.hpp"

namespace lrm::steering {
namespace {

// Mean output of `layer` in `pass` per category of the set (categories in order of first
// appearance), the set streamed in order as `lrm extract` streams it; sums in double so that a
// category of thousands of images keeps float precision.
CategoryVectors stream_prototypes(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                                  const stimuli::Preprocess& p, const std::string& layer, int pass,
                                  int batch_size) {
  net.backbone()->index_of(layer);
  CategoryVectors v;
  v.categories = set.category_names();
  v.layer = layer;
  v.pass = pass;
  v.origin = "stimulus set " + set.source();
  std::map<std::string, std::int64_t> index;
  for (std::size_t k = 0; k < v.categories.size(); ++k)
    index.emplace(v.categories[k], static_cast<std::int64_t>(k));
  v.n_exemplars.assign(v.categories.size(), 0);
  model::Record record;
  record.layers = {layer};
  torch::NoGradGuard no_grad;
  torch::Tensor sums;
  stimuli::StreamOptions so;
  so.preprocess = p;
  stimuli::BatchStream batches(set, stimuli::sequential_batches(set.size(), batch_size), so);
  Progress bar("prototypes", static_cast<std::int64_t>(set.size()), "images");
  while (auto b = batches.next()) {
    check_interrupt();
    auto x = torch::from_blob(b->data.data(), b->shape, torch::kFloat);
    auto out = net.forward(x, pass + 1, nullptr, record).passes[pass].layers.at(layer);
    out = model::to_host(out.flatten(1)).to(torch::kDouble);
    std::vector<std::int64_t> rows_category;
    for (auto row : b->rows) {
      rows_category.push_back(index.at(set.categories()[row]));
      ++v.n_exemplars[rows_category.back()];
    }
    if (!sums.defined())
      sums = torch::zeros({static_cast<std::int64_t>(v.categories.size()), out.size(1)},
                          torch::kDouble);
    sums.index_add_(0, torch::tensor(rows_category, torch::kLong), out);
    bar.advance(static_cast<std::int64_t>(b->rows.size()));
  }
  bar.finish();
  auto counts = torch::tensor(v.n_exemplars, torch::kDouble).unsqueeze(1);
  v.vectors = (sums / counts).to(torch::kFloat);
  return v;
}

}  // namespace

PrototypeResult run_prototypes(model::LoadedModel& model, const stimuli::StimulusSet& set,
                               const stimuli::Preprocess& p, const PrototypeOptions& o) {
  if (set.size() == 0) throw InputError("stimulus set " + set.source() + " is empty");
  if (o.pass < 0) throw SettingError("pass", "must be ≥ 0");
  if (o.batch_size < 1) throw SettingError("batch-size", "must be at least 1");
  const auto layer = o.layer.empty() ? model.net->backbone()->layer_names().back() : o.layer;
  auto v = stream_prototypes(*model.net, set, p, layer, o.pass, o.batch_size);
  if (const auto bad = first_nonfinite_row(v.vectors, 0); bad >= 0)
    throw InputError("the prototype of category '" + v.categories[bad] + "' (layer " + layer +
                     ") is not finite; check the weights");
  io::ResultFile out(o.out, run_provenance(model, o.weights, set, o.seed));
  write_prototypes(out.root().require_group("prototypes"), v);
  out.commit();
  return {v.categories.size(), layer, o.pass, v.vectors.size(1)};
}

}  // namespace lrm::steering
