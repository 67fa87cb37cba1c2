#include "steering/prototypes.hpp"

#include <cstdio>

#include "common/error.hpp"
#include "io/results.hpp"
#include "steering/vectors.hpp"

namespace lrm::steering {

void run_prototypes(model::LoadedModel& model, const stimuli::StimulusSet& set,
                    const stimuli::Preprocess& p, const PrototypeOptions& o) {
  if (set.size() == 0) throw InputError("stimulus set " + set.source() + " is empty");
  const auto layer = o.layer.empty() ? model.net->backbone()->layer_names().back() : o.layer;
  auto v = compute_prototypes(*model.net, set, p, layer, o.pass, {}, o.batch_size);
  io::ResultFile out(o.out, run_provenance(model, o.weights, set, o.seed));
  write_prototypes(out.root().require_group("prototypes"), v);
  out.commit();
  std::printf("prototypes of %zu categories (layer %s, pass %d, %lld units) -> %s\n",
              v.categories.size(), layer.c_str(), o.pass, static_cast<long long>(v.vectors.size(1)),
              o.out.c_str());
}

}  // namespace lrm::steering
