#include "steering/challenge.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/results.hpp"
#include "model/metadata.hpp"
#include "steering/sweep.hpp"

namespace lrm::steering {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRoles = 3;  // target1, target2, absent: the categories whose outputs are kept
const std::vector<Role> kAllRoles{Role::target1, Role::target2, Role::absent};

struct Condition {
  std::string name, type;
  double alpha, alpha_negative;
  int pass;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string alpha_text(double a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", a);
  return buf;
}

std::vector<std::uint64_t> u64(std::initializer_list<std::int64_t> dims) {
  std::vector<std::uint64_t> out;
  for (auto d : dims) out.push_back(static_cast<std::uint64_t>(d));
  return out;
}

std::int64_t image_of(const Triplet& t, Role r) {
  return r == Role::target1 ? t.image1 : r == Role::target2 ? t.image2 : t.absent_image;
}

// What steering needs to know of the model: widths of the source layer and of the output.
std::pair<std::int64_t, std::int64_t> widths(model::LrmNetImpl& net, const torch::Tensor& input,
                                             const std::string& source) {
  torch::NoGradGuard no_grad;
  model::Record r;
  r.layers = {source};
  auto out = net.forward(input, 1, nullptr, r);
  return {out.passes[0].layers.at(source).flatten(1).size(1), out.passes[0].logits.size(1)};
}

// Everything decided before the model runs on composites.
struct SteerPlan {
  std::string source;  // steered layer
  std::int64_t width = 0, outputs = 0;
  ClassList classes;
  std::vector<Triplet> triplets;
  std::vector<std::string> used;  // categories of the triplets, sorted
  std::map<std::string, std::int64_t> class_index;
  std::vector<Condition> conditions;
  std::vector<VectorKind> types;
  bool has_type(VectorKind k) const { return std::count(types.begin(), types.end(), k) > 0; }
  std::int64_t class_of(const std::vector<std::string>& categories, std::int64_t image) const {
    return class_index.at(categories[image]);
  }
};

void check_options(const SteerOptions& o, const stimuli::StimulusSet& set) {
  check_alphas(o.alphas, "steer-strength");
  check_alphas(o.alphas_negative.empty() ? o.alphas : o.alphas_negative, "steer-strength");
  if (!o.alphas_negative.empty() && o.alphas_negative.size() != o.alphas.size())
    throw InternalError("steer: as many gains of σ− as of σ+ are needed");
  if (o.types.empty()) throw SettingError("types", "give at least one steering vector type");
  if (o.targets.empty()) throw SettingError("targets", "give at least one role to steer toward");
  if (o.passes < 2)
    throw SettingError("num-passes", "must be at least 2 to steer (pass 0 is feed-forward)");
  if (o.passes > model::kMaxPasses)
    throw SettingError("num-passes", "must be at most " + std::to_string(model::kMaxPasses));
  if (o.vector_pass < 0 || o.vector_pass >= o.passes)
    throw SettingError("vector-pass", "must lie in 0.." + std::to_string(o.passes - 1));
  if (o.batch_size < 1) throw SettingError("batch-size", "must be at least 1");
  if (o.max_rows < 1) throw SettingError("max-rows", "must be at least 1");
  if (o.resamples < 1) throw SettingError("resamples", "must be at least 1");
  if (!(o.level > 0 && o.level < 1)) throw SettingError("level", "must lie in (0, 1)");
  if (o.triplets.count < 1) throw SettingError("composites", "must be at least 1");
  if (set.size() == 0) throw InputError("stimulus set " + set.source() + " is empty");
  // Per trial (composite × condition × role): its top-1 class, 3 outputs and its outcome.
  const double trials = static_cast<double>(o.triplets.count) *
                        (2 + static_cast<double>(o.types.size() * o.alphas.size())) *
                        static_cast<double>(o.targets.size());
  check_memory(trials * 28 + static_cast<double>(o.triplets.count) * 256, "composites",
               "the trial tables of " + std::to_string(o.triplets.count) + " composites");
  check_memory(static_cast<double>(o.resamples) * 8, "resamples",
               std::to_string(o.resamples) + " bootstrap resamples");
}

// The steered source layer: given, or the model's last layer; it must send a feedback pathway.
std::string steered_source(model::LoadedModel& model, const std::string& given) {
  auto& net = *model.net;
  const std::string source = given.empty() ? net.backbone()->layer_names().back() : given;
  net.backbone()->index_of(source, "steering source");
  const auto sources = net.sources();
  if (std::find(sources.begin(), sources.end(), source) == sources.end())
    throw InputError("steering source '" + source + "' sends no feedback pathway in model " +
                     model.description + " (" + model.architecture.to_string() + ")");
  return source;
}

// Pass 0, the unsteered last pass, then type × α (each toward every role).
std::vector<Condition> conditions_of(const SteerOptions& o) {
  const int last = o.passes - 1;
  std::vector<Condition> conditions{{"pass0", "none", 0.0, 0.0, 0},
                                    {"pass" + std::to_string(last), "none", 0.0, 0.0, last}};
  const auto& negative = o.alphas_negative.empty() ? o.alphas : o.alphas_negative;
  for (auto k : o.types)
    for (std::size_t i = 0; i < o.alphas.size(); ++i) {
      const double a = o.alphas[i], n = negative[i];
      const auto gain = n == a ? alpha_text(a) : alpha_text(n) + ":" + alpha_text(a);
      const auto& type = vector_kind_names.name(k);
      conditions.push_back({type + " alpha=" + gain, type, a, n, last});
    }
  return conditions;
}

SteerPlan plan_steer(model::LoadedModel& model, const stimuli::StimulusSet& set,
                     const stimuli::Preprocess& p, const SteerOptions& o) {
  check_options(o, set);
  SteerPlan plan;
  plan.types = o.types;
  plan.source = steered_source(model, o.source);
  if (plan.has_type(VectorKind::file) != !o.vectors.empty())
    throw o.vectors.empty()
        ? SettingError("types", "type file needs a vectors file (a category × unit matrix)")
        : SettingError("vectors", "a vectors file is given but the types do not include file");
  std::tie(plan.width, plan.outputs) =
      widths(*model.net, load_image(set, 0, p).unsqueeze(0), plan.source);
  plan.classes = o.classes.empty()
                     ? ClassList{model::class_names(model, set), "the model's class names"}
                     : parse_classes(o.classes, set.categories(), plan.outputs);
  // Outputs are read at the class indices, so every class must be an output.
  if (static_cast<std::int64_t>(plan.classes.names.size()) > plan.outputs)
    throw SettingError("classes", "the model has " + std::to_string(plan.outputs) +
                                      " outputs but " + plan.classes.origin + " give " +
                                      std::to_string(plan.classes.names.size()) + " classes");
  if (plan.has_type(VectorKind::one_hot) && plan.width != plan.outputs)
    throw SettingError("types", "one-hot needs the steering source to be the output layer (" +
                                    plan.source + " has " + std::to_string(plan.width) +
                                    " units, the output " + std::to_string(plan.outputs) + ")");
  plan.triplets = draw_triplets(set.categories(), o.triplets, set.source());
  std::set<std::string> used;
  for (const auto& t : plan.triplets)
    for (auto r : kAllRoles) used.insert(set.categories()[image_of(t, r)]);
  plan.used.assign(used.begin(), used.end());
  for (const auto& c : plan.used) plan.class_index[c] = plan.classes.index_of(c);
  plan.conditions = conditions_of(o);
  return plan;
}

// The vectors steered toward: prototypes, file vectors and instances, as the types need them.
struct SteeringVectors {
  CategoryVectors prototypes, file_vectors;
  std::map<std::int64_t, std::int64_t> instance_row;  // image → row of `instances`
  torch::Tensor instances;
};

CategoryVectors steering_prototypes(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                                    const stimuli::Preprocess& p, const SteerOptions& o,
                                    const SteerPlan& plan) {
  if (o.prototypes.empty())
    return compute_prototypes(net, set, p, plan.source, o.vector_pass, plan.used, o.batch_size);
  auto prototypes = read_category_vectors(o.prototypes, plan.classes, plan.width);
  if (!prototypes.layer.empty() && prototypes.layer != plan.source)
    throw InputError("prototypes " + o.prototypes + " are of layer " + prototypes.layer +
                     ", not of the steering source " + plan.source);
  for (const auto& c : plan.used) prototypes.row(c);
  return prototypes;
}

SteeringVectors steering_vectors(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                                 const stimuli::Preprocess& p, const SteerOptions& o,
                                 const SteerPlan& plan) {
  SteeringVectors v;
  if (plan.has_type(VectorKind::prototype) || plan.has_type(VectorKind::discriminative))
    v.prototypes = steering_prototypes(net, set, p, o, plan);
  if (plan.has_type(VectorKind::file)) {
    v.file_vectors = read_category_vectors(o.vectors, plan.classes, plan.width);
    for (const auto& c : plan.used) v.file_vectors.row(c);
  }
  if (plan.has_type(VectorKind::instance)) {
    std::set<std::int64_t> images;
    for (const auto& t : plan.triplets)
      for (auto r : kAllRoles) images.insert(image_of(t, r));
    const std::vector<std::int64_t> rows(images.begin(), images.end());
    for (std::size_t i = 0; i < rows.size(); ++i)
      v.instance_row[rows[i]] = static_cast<std::int64_t>(i);
    v.instances =
        layer_outputs(net, set, rows, p, plan.source, o.vector_pass, o.batch_size, "instances");
  }
  return v;
}

torch::Tensor vector_for(const SteeringVectors& v, const SteerPlan& plan,
                         const std::vector<std::string>& cat, VectorKind k, const Triplet& t,
                         Role r) {
  const auto& c = cat[image_of(t, r)];
  switch (k) {
    case VectorKind::one_hot:
      return one_hot(plan.class_index.at(c), plan.width);
    case VectorKind::instance:
      return v.instances[v.instance_row.at(image_of(t, r))];
    case VectorKind::prototype:
      return v.prototypes.row(c);
    case VectorKind::file:
      return v.file_vectors.row(c);
    case VectorKind::discriminative: {
      // Toward a present target, away from the other one; toward the absent category, away
      // from both present ones.
      const auto& p = v.prototypes;
      const auto& c1 = cat[t.image1];
      const auto& c2 = cat[t.image2];
      auto distractor = r == Role::target1   ? p.row(c2)
                        : r == Role::target2 ? p.row(c1)
                                             : 0.5 * (p.row(c1) + p.row(c2));
      return p.row(c) - distractor;
    }
  }
  return {};
}

// The composites of triplets first..first+B−1, stacked.
torch::Tensor composite_batch(const stimuli::StimulusSet& set, const stimuli::Preprocess& p,
                              const SteerOptions& o, const SteerPlan& plan, std::int64_t first,
                              std::int64_t B) {
  const auto& ids = set.ids();
  std::vector<torch::Tensor> images;
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& t = plan.triplets[first + b];
    images.push_back(make_composite(load_image(set, t.image1, p), load_image(set, t.image2, p),
                                    o.composite, "stimulus " + ids[t.image1],
                                    "stimulus " + ids[t.image2]));
    if (!images.back().sizes().equals(images.front().sizes()))
      throw InputError("composites of " + set.source() + " differ in size (stimulus " +
                       ids[t.image1] + "); resize or crop to give all images one size");
  }
  return torch::stack(images);
}

// One condition per type × α × role, in that order, for triplets first..first+B−1.
Conditions batch_conditions(const SteeringVectors& v, const SteerPlan& plan,
                            const std::vector<std::string>& cat, const SteerOptions& o,
                            std::int64_t first, std::int64_t B) {
  Conditions cond;
  cond.source = plan.source;
  std::vector<torch::Tensor> vectors;
  for (auto k : o.types) {
    std::vector<torch::Tensor> per_role;
    for (auto r : o.targets) {
      std::vector<torch::Tensor> rows;
      for (std::int64_t b = 0; b < B; ++b)
        rows.push_back(vector_for(v, plan, cat, k, plan.triplets[first + b], r));
      per_role.push_back(torch::stack(rows));
    }
    for (std::size_t i = 0; i < o.alphas.size(); ++i)
      for (const auto& role_vectors : per_role) {
        vectors.push_back(role_vectors);
        cond.alpha.push_back(o.alphas[i]);
        if (!o.alphas_negative.empty()) cond.alpha_negative.push_back(o.alphas_negative[i]);
      }
  }
  cond.vectors = torch::stack(vectors);
  return cond;
}

// The model's answers on the composites, and the naive comparison when asked for.
struct ChallengeRun {
  stats::ChallengeTrials trials;
  double shared_s = 0, naive_s = 0, max_diff = 0;
  std::int64_t top1_mismatch = 0;
  double single_image_accuracy = 0;
};

void compare_naive(model::LrmNetImpl& net, const torch::Tensor& input, const Conditions& cond,
                   const SweepOptions& sweep, const SweepResult& res, ChallengeRun& run) {
  const auto t0 = Clock::now();
  const auto ref = sweep_naive(net, input, cond, sweep);
  run.naive_s += seconds_since(t0);
  const std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs{
      {res.pass0, ref.pass0}, {res.unsteered, ref.unsteered}, {res.steered, ref.steered}};
  for (const auto& [a, b] : pairs) {
    run.max_diff = std::max(run.max_diff, (a - b).abs().max().item<double>());
    run.top1_mismatch += (a.argmax(-1) != b.argmax(-1)).sum().item<std::int64_t>();
  }
}

// InputError naming the first composite of the batch whose outputs hold a NaN or infinity.
void check_finite(const SweepResult& res, const stimuli::StimulusSet& set, const SteerPlan& plan,
                  std::int64_t first) {
  auto b = first_nonfinite_row(res.pass0, 0);
  if (b < 0) b = first_nonfinite_row(res.unsteered, 0);
  if (b < 0) b = first_nonfinite_row(res.steered, 1);
  if (b < 0) return;
  const auto& t = plan.triplets[first + b];
  throw InputError("the model's outputs on composite " + std::to_string(first + b) + " (stimuli " +
                   set.ids()[t.image1] + " and " + set.ids()[t.image2] +
                   ") are not finite; check the weights");
}

// Top-1 classes and the outputs of the three roles' classes of composites first..first+B−1.
void record_batch(const SweepResult& res, const SteerPlan& plan,
                  const std::vector<std::string>& cat, std::int64_t first, std::int64_t B,
                  stats::ChallengeTrials& trials) {
  const auto C = trials.conditions, R = trials.roles;
  // Condition c, steered toward role slot r: logits B×O (vectors are ordered type, α, role).
  auto logits_of = [&](std::int64_t c, std::int64_t r) -> torch::Tensor {
    if (c == 0) return res.pass0;
    if (c == 1) return res.unsteered;
    return res.steered[(c - 2) * R + r];
  };
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t r = 0; r < R; ++r) {
      auto logits = logits_of(c, r).contiguous();
      auto arg = logits.argmax(1).contiguous();
      const auto* l = logits.data_ptr<float>();
      const auto* a = arg.data_ptr<std::int64_t>();
      for (std::int64_t b = 0; b < B; ++b) {
        const auto n = first + b;
        trials.top1[(n * C + c) * R + r] = a[b];
        for (int q = 0; q < kRoles; ++q)
          trials.output[((n * C + c) * R + r) * kRoles + q] =
              l[b * plan.outputs + plan.class_of(cat, image_of(plan.triplets[n], kAllRoles[q]))];
      }
    }
}

// Top-1 accuracy of the read-out pass on the composites' images shown alone.
double single_image_accuracy(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                             const stimuli::Preprocess& p, const SteerOptions& o,
                             const SteerPlan& plan) {
  std::set<std::int64_t> alone_set;
  for (const auto& t : plan.triplets) alone_set.insert({t.image1, t.image2});
  const std::vector<std::int64_t> alone(alone_set.begin(), alone_set.end());
  auto top = layer_outputs(net, set, alone, p, net.backbone()->layer_names().back(), o.passes - 1,
                           o.batch_size, "single images")
                 .argmax(1);
  std::int64_t right = 0;
  for (std::size_t i = 0; i < alone.size(); ++i)
    right += top[i].item<std::int64_t>() == plan.class_of(set.categories(), alone[i]);
  return static_cast<double>(right) / static_cast<double>(alone.size());
}

stats::ChallengeTrials empty_trials(const SteerOptions& o, const SteerPlan& plan,
                                    const std::vector<std::string>& cat) {
  stats::ChallengeTrials t;
  t.composites = static_cast<std::int64_t>(plan.triplets.size());
  t.conditions = static_cast<std::int64_t>(plan.conditions.size());
  t.roles = static_cast<std::int64_t>(o.targets.size());
  t.outputs = kRoles;
  t.top1.resize(t.composites * t.conditions * t.roles);
  t.output.resize(t.top1.size() * kRoles);
  for (const auto& triplet : plan.triplets)
    for (auto r : o.targets) t.wanted.push_back(plan.class_of(cat, image_of(triplet, r)));
  for (auto r : o.targets) t.absent.push_back(r == Role::absent);
  return t;
}

ChallengeRun run_challenge(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                           const stimuli::Preprocess& p, const SteerOptions& o,
                           const SteerPlan& plan, const SteeringVectors& vectors) {
  const auto& cat = set.categories();
  ChallengeRun run;
  run.trials = empty_trials(o, plan, cat);
  const auto N = run.trials.composites;
  SweepOptions sweep;
  sweep.passes = o.passes;
  sweep.max_rows = o.max_rows;
  Progress bar("steer", N, "composites");
  for (std::int64_t first = 0; first < N; first += o.batch_size) {
    check_interrupt();
    const auto B = std::min<std::int64_t>(o.batch_size, N - first);
    const auto input = composite_batch(set, p, o, plan, first, B);
    const auto cond = batch_conditions(vectors, plan, cat, o, first, B);
    const auto t0 = Clock::now();
    const auto res = sweep_shared(net, input, cond, sweep);
    run.shared_s += seconds_since(t0);
    check_finite(res, set, plan, first);
    if (o.check_naive) compare_naive(net, input, cond, sweep, res, run);
    record_batch(res, plan, cat, first, B, run.trials);
    bar.advance(B);
  }
  bar.finish();
  run.single_image_accuracy = single_image_accuracy(net, set, p, o, plan);
  return run;
}

void write_settings(h5::Group& g, const SteerOptions& o, const SteerPlan& plan,
                    const SteeringVectors& v, const ChallengeRun& run) {
  g.set_attr("composite", composite_kind_names.name(o.composite));
  g.set_attr("source", plan.source);
  g.set_attr("passes", static_cast<std::int64_t>(o.passes));
  g.set_attr("readout_pass", static_cast<std::int64_t>(o.passes - 1));
  g.set_attr("vector_pass", static_cast<std::int64_t>(o.vector_pass));
  g.set_attr("prototypes", v.prototypes.origin.empty() ? std::string("none") : v.prototypes.origin);
  if (v.prototypes.pass >= 0)
    g.set_attr("prototype_pass", static_cast<std::int64_t>(v.prototypes.pass));
  g.set_attr("classes", plan.classes.origin);
  g.set_attr("resamples", o.resamples);
  g.set_attr("level", o.level);
  g.set_attr("correction", stats::rate_correction_names.name(o.correction));
  g.set_attr("unique_pairs", static_cast<std::int64_t>(o.triplets.unique_pairs));
  g.set_attr("single_image_accuracy", run.single_image_accuracy);
  if (o.check_naive) {
    g.set_attr("shared_seconds", run.shared_s);
    g.set_attr("naive_seconds", run.naive_s);
    g.set_attr("naive_max_abs_difference", run.max_diff);
    g.set_attr("naive_top1_mismatches", run.top1_mismatch);
  }
}

// Coordinates: composites (with their stimuli and categories), conditions, roles, classes.
void write_coordinates(h5::Group& g, const stimuli::StimulusSet& set, const SteerOptions& o,
                       const SteerPlan& plan, const stats::ChallengeScores& s) {
  const auto& ids = set.ids();
  const auto& cat = set.categories();
  std::vector<std::int64_t> composite;
  std::vector<std::string> s1, s2, s3, c1, c2, c3;
  for (const auto& t : plan.triplets) {
    composite.push_back(static_cast<std::int64_t>(composite.size()));
    s1.push_back(ids[t.image1]);
    s2.push_back(ids[t.image2]);
    s3.push_back(ids[t.absent_image]);
    c1.push_back(cat[t.image1]);
    c2.push_back(cat[t.image2]);
    c3.push_back(cat[t.absent_image]);
  }
  h5::write_coordinate(g, "composite", composite);
  h5::write_aux_coordinate(g, "stimulus1", "composite", s1);
  h5::write_aux_coordinate(g, "stimulus2", "composite", s2);
  h5::write_aux_coordinate(g, "absent_stimulus", "composite", s3);
  h5::write_aux_coordinate(g, "category1", "composite", c1);
  h5::write_aux_coordinate(g, "category2", "composite", c2);
  h5::write_aux_coordinate(g, "absent_category", "composite", c3);
  std::vector<std::string> names, types;
  std::vector<double> alphas, alphas_negative;
  std::vector<std::int64_t> passes;
  for (const auto& c : plan.conditions) {
    names.push_back(c.name);
    types.push_back(c.type);
    alphas.push_back(c.alpha);
    alphas_negative.push_back(c.alpha_negative);
    passes.push_back(c.pass);
  }
  h5::write_coordinate(g, "condition", names);
  h5::write_aux_coordinate(g, "steering_type", "condition", types);
  h5::write_aux_coordinate(g, "pass", "condition", passes);
  const auto C = static_cast<std::int64_t>(plan.conditions.size());
  h5::write_array(g, "alpha", alphas, u64({C}), {"condition"});
  // Gains of σ− only where they differ from those of σ+ (alpha) somewhere.
  if (!o.alphas_negative.empty())
    h5::write_array(g, "alpha_negative", alphas_negative, u64({C}), {"condition"});
  std::vector<std::string> toward, target_names;
  for (auto r : o.targets) toward.push_back(role_names.name(r));
  for (auto r : s.target_roles) target_names.push_back(toward[r]);
  h5::write_coordinate(g, "steer_toward", toward);
  h5::write_coordinate(g, "output_of", role_names.canonical());
  h5::write_coordinate(g, "bound", std::vector<std::string>{"low", "high"});
  h5::write_coordinate(g, "class", plan.classes.names);
  if (s.hits()) h5::write_coordinate(g, "target", target_names);
}

void write_scores(h5::Group& g, const stats::ChallengeTrials& t, const stats::ChallengeScores& s) {
  const auto N = t.composites, C = t.conditions, R = t.roles;
  h5::ArrayOptions per_composite;
  per_composite.coordinates = {"stimulus1",     "stimulus2", "absent_stimulus",
                               "category1",     "category2", "absent_category",
                               "steering_type", "alpha",     "pass"};
  h5::ArrayOptions per_condition;
  per_condition.coordinates = {"steering_type", "alpha", "pass"};
  // Rates are fractions of composites; A′ is 0.5 at chance; outputs are the read-out's logits.
  h5::ArrayOptions fraction = per_condition, a_prime_options = per_condition, logit = per_condition;
  fraction.attrs = {{"units", "1"}};
  a_prime_options.attrs = {{"units", "1"}, {"chance", "0.5"}};
  logit.attrs = {{"units", "logit"}};
  h5::write_array(g, "top1", t.top1, u64({N, C, R}), {"composite", "condition", "steer_toward"},
                  per_composite);
  h5::write_array(g, "output", t.output, u64({N, C, R, kRoles}),
                  {"composite", "condition", "steer_toward", "output_of"}, per_composite);
  if (s.hits()) {
    h5::write_array(g, "hit_rate", s.hit_rate, u64({C}), {"condition"}, fraction);
    h5::write_array(g, "hit_rate_ci", s.hit_rate_ci, u64({C, 2}), {"condition", "bound"}, fraction);
    h5::write_array(g, "hit_rate_by_target", s.hit_rate_by_target,
                    u64({C, static_cast<std::int64_t>(s.target_roles.size())}),
                    {"condition", "target"}, fraction);
  }
  if (s.false_alarms()) {
    h5::write_array(g, "false_alarm_rate", s.false_alarm_rate, u64({C}), {"condition"}, fraction);
    h5::write_array(g, "false_alarm_rate_ci", s.false_alarm_rate_ci, u64({C, 2}),
                    {"condition", "bound"}, fraction);
  }
  if (s.hits() && s.false_alarms()) {
    h5::write_array(g, "a_prime", s.a_prime, u64({C}), {"condition"}, a_prime_options);
    h5::write_array(g, "a_prime_ci", s.a_prime_ci, u64({C, 2}), {"condition", "bound"},
                    a_prime_options);
    h5::write_array(g, "a_zhang_mueller", s.a_zhang_mueller, u64({C}), {"condition"},
                    per_condition);
    h5::write_array(g, "d_prime", s.d_prime, u64({C}), {"condition"}, per_condition);
    h5::write_array(g, "criterion", s.criterion, u64({C}), {"condition"}, per_condition);
  }
  h5::write_array(g, "mean_output", s.mean_output, u64({C, R, kRoles}),
                  {"condition", "steer_toward", "output_of"}, logit);
  h5::write_array(g, "mean_output_ci", s.mean_output_ci, u64({C, R, kRoles, 2}),
                  {"condition", "steer_toward", "output_of", "bound"}, logit);
}

}  // namespace

SteerResult run_steer(model::LoadedModel& model, const stimuli::StimulusSet& set,
                      const stimuli::Preprocess& p, const SteerOptions& o) {
  const auto plan = plan_steer(model, set, p, o);
  const auto vectors = steering_vectors(*model.net, set, p, o, plan);
  const auto run = run_challenge(*model.net, set, p, o, plan, vectors);
  SteerResult result;
  result.scores = stats::score_challenge(run.trials, {o.resamples, o.seed, o.level}, o.correction);
  for (const auto& c : plan.conditions) result.conditions.push_back(c.name);
  result.checked_naive = o.check_naive;
  result.shared_seconds = run.shared_s;
  result.naive_seconds = run.naive_s;
  result.max_abs_difference = run.max_diff;
  result.top1_mismatches = run.top1_mismatch;

  io::ResultFile out(o.out, run_provenance(model, o.weights, set, o.seed,
                                           {{"prototypes", o.prototypes}, {"vectors", o.vectors}}));
  auto g = out.root().require_group("steering");
  write_settings(g, o, plan, vectors, run);
  write_coordinates(g, set, o, plan, result.scores);
  write_scores(g, run.trials, result.scores);
  out.commit();
  return result;
}

}  // namespace lrm::steering
