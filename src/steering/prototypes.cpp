#include "steering/prototypes.hpp"

#include "common/error.hpp"
#include "io/results.hpp"
#include "steering/vectors.hpp"

namespace lrm::steering {

PrototypeResult run_prototypes(model::LoadedModel& model, const stimuli::StimulusSet& set,
                               const stimuli::Preprocess& p, const PrototypeOptions& o) {
  if (o.pass < 0) throw SettingError("pass", "must be ≥ 0");
  if (o.batch_size < 1) throw SettingError("batch-size", "must be at least 1");
  const auto layer = o.layer.empty() ? model.net->backbone()->layer_names().back() : o.layer;
  auto v = compute_prototypes(*model.net, set, p, layer, o.pass, {}, o.batch_size);
  if (const auto bad = first_nonfinite_row(v.vectors, 0); bad >= 0)
    throw InputError("the prototype of category '" + v.categories[bad] + "' (layer " + layer +
                     ") is not finite; check the weights");
  io::ResultFile out(o.out, run_provenance(model, o.weights, set, o.seed));
  write_prototypes(out.root().require_group("prototypes"), v);
  out.commit();
  return {v.categories.size(), layer, o.pass, v.vectors.size(1)};
}

}  // namespace lrm::steering
