#include "steering/challenge.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/results.hpp"
#include "stats/bootstrap.hpp"
#include "steering/sweep.hpp"

namespace lrm::steering {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRoles = 3;  // target1, target2, absent: the categories whose outputs are kept

struct Condition {
  std::string name, type;
  double alpha;
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

// What steering needs to know of the model: widths of the source layer and of the output.
std::pair<std::int64_t, std::int64_t> widths(model::LrmNetImpl& net, const torch::Tensor& input,
                                             const std::string& source) {
  torch::NoGradGuard no_grad;
  model::Record r;
  r.layers = {source};
  auto out = net.forward(input, 1, nullptr, r);
  return {out.passes[0].layers.at(source).flatten(1).size(1), out.passes[0].logits.size(1)};
}

std::vector<std::uint64_t> u64(std::initializer_list<std::int64_t> dims) {
  std::vector<std::uint64_t> out;
  for (auto d : dims) out.push_back(static_cast<std::uint64_t>(d));
  return out;
}

}  // namespace

Role parse_role(const std::string& text) {
  if (text == "target1") return Role::target1;
  if (text == "target2") return Role::target2;
  if (text == "absent") return Role::absent;
  throw InputError("--targets: unknown role '" + text + "'; valid roles: target1, target2, absent");
}

std::string to_string(Role role) {
  return role == Role::target1 ? "target1" : role == Role::target2 ? "target2" : "absent";
}

stats::RateCorrection parse_correction(const std::string& text) {
  if (text == "log-linear") return stats::RateCorrection::log_linear;
  if (text == "half-count") return stats::RateCorrection::half_count;
  if (text == "none") return stats::RateCorrection::none;
  throw InputError("--correction: unknown correction '" + text +
                   "'; valid: log-linear, half-count, none");
}

void run_steer(model::LoadedModel& model, const stimuli::StimulusSet& set,
               const stimuli::Preprocess& p, const SteerOptions& o) {
  auto& net = *model.net;
  check_alphas(o.alphas, "--alphas");
  if (o.types.empty()) throw InputError("--types: give at least one steering vector type");
  if (o.targets.empty()) throw InputError("--targets: give at least one role to steer toward");
  if (o.passes < 2)
    throw InputError("--passes must be at least 2 to steer (pass 0 is feed-forward)");
  if (o.vector_pass < 0 || o.vector_pass >= o.passes)
    throw InputError("--vector-pass must lie in 0.." + std::to_string(o.passes - 1));
  if (o.batch_size < 1) throw InputError("--batch-size must be at least 1");
  if (o.resamples < 1) throw InputError("--resamples must be at least 1");
  if (set.size() == 0) throw InputError("stimulus set " + set.source() + " is empty");
  const std::string source = o.source.empty() ? net.backbone()->layer_names().back() : o.source;
  net.backbone()->index_of(source, "steering source");
  const auto sources = net.sources();
  if (std::find(sources.begin(), sources.end(), source) == sources.end())
    throw InputError("steering source '" + source + "' sends no feedback pathway in model " +
                     model.description + " (" + model.architecture.to_string() + ")");
  const auto has_type = [&](VectorKind k) {
    return std::find(o.types.begin(), o.types.end(), k) != o.types.end();
  };
  if (has_type(VectorKind::file) != !o.vectors.empty())
    throw InputError(o.vectors.empty() ? "--types file needs --vectors (a category × unit matrix)"
                                       : "--vectors is given but --types does not include file");

  std::int64_t width, outputs;
  std::tie(width, outputs) = widths(net, load_image(set, 0, p).unsqueeze(0), source);
  const auto classes = parse_classes(o.classes, set.categories(), outputs);
  if (has_type(VectorKind::one_hot) && width != outputs)
    throw InputError("--types one-hot needs the steering source to be the output layer (" + source +
                     " has " + std::to_string(width) + " units, the output " +
                     std::to_string(outputs) + ")");

  const auto triplets = draw_triplets(set.categories(), o.triplets, set.source());
  const auto N = static_cast<std::int64_t>(triplets.size());
  const auto& cat = set.categories();
  const auto& ids = set.ids();
  auto image_of = [&](const Triplet& t, Role r) {
    return r == Role::target1 ? t.image1 : r == Role::target2 ? t.image2 : t.absent_image;
  };
  std::set<std::string> used_set;
  for (const auto& t : triplets)
    for (int r = 0; r < kRoles; ++r) used_set.insert(cat[image_of(t, static_cast<Role>(r))]);
  const std::vector<std::string> used(used_set.begin(), used_set.end());
  std::map<std::string, std::int64_t> class_index;
  for (const auto& c : used) class_index[c] = classes.index_of(c);

  // Steering vectors.
  CategoryVectors prototypes, file_vectors;
  if (has_type(VectorKind::prototype) || has_type(VectorKind::discriminative)) {
    if (o.prototypes.empty()) {
      prototypes = compute_prototypes(net, set, p, source, o.vector_pass, used, o.batch_size);
    } else {
      prototypes = read_category_vectors(o.prototypes, classes, width);
      if (!prototypes.layer.empty() && prototypes.layer != source)
        throw InputError("prototypes " + o.prototypes + " are of layer " + prototypes.layer +
                         ", not of the steering source " + source);
      for (const auto& c : used) prototypes.row(c);
    }
  }
  if (has_type(VectorKind::file)) {
    file_vectors = read_category_vectors(o.vectors, classes, width);
    for (const auto& c : used) file_vectors.row(c);
  }
  std::map<std::int64_t, std::int64_t> instance_row;
  torch::Tensor instances;
  if (has_type(VectorKind::instance)) {
    std::set<std::int64_t> images;
    for (const auto& t : triplets)
      for (int r = 0; r < kRoles; ++r) images.insert(image_of(t, static_cast<Role>(r)));
    std::vector<std::int64_t> rows(images.begin(), images.end());
    for (std::size_t i = 0; i < rows.size(); ++i)
      instance_row[rows[i]] = static_cast<std::int64_t>(i);
    instances = layer_outputs(net, set, rows, p, source, o.vector_pass, o.batch_size, "instances");
  }
  auto vector_for = [&](VectorKind k, const Triplet& t, Role r) -> torch::Tensor {
    const auto& c = cat[image_of(t, r)];
    switch (k) {
      case VectorKind::one_hot:
        return one_hot(class_index.at(c), width);
      case VectorKind::instance:
        return instances[instance_row.at(image_of(t, r))];
      case VectorKind::prototype:
        return prototypes.row(c);
      case VectorKind::file:
        return file_vectors.row(c);
      case VectorKind::discriminative: {
        // Toward a present target, away from the other one; toward the absent category, away
        // from both present ones.
        const auto& c1 = cat[t.image1];
        const auto& c2 = cat[t.image2];
        auto distractor = r == Role::target1   ? prototypes.row(c2)
                          : r == Role::target2 ? prototypes.row(c1)
                                               : 0.5 * (prototypes.row(c1) + prototypes.row(c2));
        return prototypes.row(c) - distractor;
      }
    }
    return {};
  };

  // Conditions: pass 0, the unsteered last pass, then type × α (each toward every role).
  const int last = o.passes - 1;
  std::vector<Condition> conditions{{"pass0", "none", 0.0, 0},
                                    {"pass" + std::to_string(last), "none", 0.0, last}};
  for (auto k : o.types)
    for (double a : o.alphas)
      conditions.push_back({to_string(k) + " alpha=" + alpha_text(a), to_string(k), a, last});
  const auto C = static_cast<std::int64_t>(conditions.size());
  const auto R = static_cast<std::int64_t>(o.targets.size());

  std::vector<std::int64_t> top1(N * C * R);
  std::vector<float> output(N * C * R * kRoles);
  SweepOptions sweep;
  sweep.passes = o.passes;
  sweep.max_rows = o.max_rows;
  double shared_s = 0, naive_s = 0, max_diff = 0;
  std::int64_t top1_mismatch = 0;
  Progress bar("steer", N, "composites");
  for (std::int64_t first = 0; first < N; first += o.batch_size) {
    check_interrupt();
    const auto B = std::min<std::int64_t>(o.batch_size, N - first);
    std::vector<torch::Tensor> images;
    for (std::int64_t b = 0; b < B; ++b) {
      const auto& t = triplets[first + b];
      images.push_back(make_composite(load_image(set, t.image1, p), load_image(set, t.image2, p),
                                      o.composite, "stimulus " + ids[t.image1],
                                      "stimulus " + ids[t.image2]));
      if (!images.back().sizes().equals(images.front().sizes()))
        throw InputError("composites of " + set.source() + " differ in size (stimulus " +
                         ids[t.image1] + "); use --resize/--crop to give all images one size");
    }
    auto input = torch::stack(images);
    Conditions cond;
    cond.source = source;
    std::vector<torch::Tensor> vectors;
    for (auto k : o.types) {
      std::vector<torch::Tensor> per_role;
      for (auto r : o.targets) {
        std::vector<torch::Tensor> rows;
        for (std::int64_t b = 0; b < B; ++b) rows.push_back(vector_for(k, triplets[first + b], r));
        per_role.push_back(torch::stack(rows));
      }
      for (double a : o.alphas)
        for (std::size_t r = 0; r < per_role.size(); ++r) {
          vectors.push_back(per_role[r]);
          cond.alpha.push_back(a);
        }
    }
    cond.vectors = torch::stack(vectors);

    auto t0 = Clock::now();
    auto res = sweep_shared(net, input, cond, sweep);
    shared_s += seconds_since(t0);
    if (o.check_naive) {
      t0 = Clock::now();
      auto ref = sweep_naive(net, input, cond, sweep);
      naive_s += seconds_since(t0);
      const std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs{
          {res.pass0, ref.pass0}, {res.unsteered, ref.unsteered}, {res.steered, ref.steered}};
      for (const auto& [a, b] : pairs) {
        max_diff = std::max(max_diff, (a - b).abs().max().item<double>());
        top1_mismatch += (a.argmax(-1) != b.argmax(-1)).sum().item<std::int64_t>();
      }
    }

    // Condition c, steered toward role slot r: logits B×O.
    auto logits_of = [&](std::int64_t c, std::int64_t r) -> torch::Tensor {
      if (c == 0) return res.pass0;
      if (c == 1) return res.unsteered;
      return res.steered[(c - 2) * R + r];  // vectors are ordered type, α, role
    };
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t r = 0; r < R; ++r) {
        auto logits = logits_of(c, r).contiguous();
        auto arg = logits.argmax(1).contiguous();
        const auto* l = logits.data_ptr<float>();
        const auto* a = arg.data_ptr<std::int64_t>();
        for (std::int64_t b = 0; b < B; ++b) {
          const auto n = first + b;
          top1[(n * C + c) * R + r] = a[b];
          for (int q = 0; q < kRoles; ++q)
            output[((n * C + c) * R + r) * kRoles + q] =
                l[b * outputs + class_index.at(cat[image_of(triplets[n], static_cast<Role>(q))])];
        }
      }
    bar.advance(B);
  }
  bar.finish();

  // Reference: top-1 accuracy of the read-out pass on the composites' images shown alone.
  double single_image_accuracy;
  {
    std::set<std::int64_t> alone_set;
    for (const auto& t : triplets) alone_set.insert({t.image1, t.image2});
    const std::vector<std::int64_t> alone(alone_set.begin(), alone_set.end());
    auto top = layer_outputs(net, set, alone, p, net.backbone()->layer_names().back(), o.passes - 1,
                             o.batch_size, "single images")
                   .argmax(1);
    std::int64_t right = 0;
    for (std::size_t i = 0; i < alone.size(); ++i)
      right += top[i].item<std::int64_t>() == class_index.at(cat[alone[i]]);
    single_image_accuracy = static_cast<double>(right) / static_cast<double>(alone.size());
  }

  // Outcomes: hit trials (steering toward a present target) and false-alarm trials (toward the
  // absent category); without steering a target counts as a hit when the top-1 equals it.
  std::vector<std::int64_t> target_slots, absent_slots;
  for (std::int64_t r = 0; r < R; ++r)
    (o.targets[r] == Role::absent ? absent_slots : target_slots).push_back(r);
  std::vector<double> outcome(N * C * R);  // 1 where the top-1 is the category steered toward
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t r = 0; r < R; ++r) {
      const auto wanted = class_index.at(cat[image_of(triplets[n], o.targets[r])]);
      for (std::int64_t c = 0; c < C; ++c)
        outcome[(n * C + c) * R + r] = top1[(n * C + c) * R + r] == wanted ? 1.0 : 0.0;
    }
  auto correct = [&](std::int64_t n, std::int64_t c, std::int64_t r) {
    return outcome[(n * C + c) * R + r];
  };
  auto rate = [&](std::int64_t c, const std::vector<std::int64_t>& slots,
                  const std::vector<std::int64_t>& idx) {
    double s = 0;
    for (auto n : idx)
      for (auto r : slots) s += correct(n, c, r);
    return s / (static_cast<double>(idx.size()) * slots.size());
  };
  const bool hits = !target_slots.empty(), fas = !absent_slots.empty();
  std::vector<double> hit_rate, hit_ci, fa_rate, fa_ci, ap, ap_ci, a_zm, dp, crit, by_target,
      mean_out, mean_ci;
  std::vector<std::int64_t> all(N);
  for (std::int64_t n = 0; n < N; ++n) all[n] = n;
  for (std::int64_t c = 0; c < C; ++c) {
    if (hits) {
      auto ci = stats::percentile_ci(
          N, [&](const auto& idx) { return rate(c, target_slots, idx); }, o.resamples, o.seed,
          o.level);
      hit_rate.push_back(ci.estimate);
      hit_ci.insert(hit_ci.end(), {ci.low, ci.high});
      for (auto r : target_slots) by_target.push_back(rate(c, {r}, all));
    }
    if (fas) {
      auto ci = stats::percentile_ci(
          N, [&](const auto& idx) { return rate(c, absent_slots, idx); }, o.resamples, o.seed,
          o.level);
      fa_rate.push_back(ci.estimate);
      fa_ci.insert(fa_ci.end(), {ci.low, ci.high});
    }
    if (hits && fas) {
      auto ci = stats::percentile_ci(
          N,
          [&](const auto& idx) {
            return stats::a_prime(rate(c, target_slots, idx), rate(c, absent_slots, idx));
          },
          o.resamples, o.seed, o.level);
      ap.push_back(ci.estimate);
      ap_ci.insert(ap_ci.end(), {ci.low, ci.high});
      a_zm.push_back(stats::a_zhang_mueller(hit_rate.back(), fa_rate.back()));
      const auto n_signal = N * static_cast<std::int64_t>(target_slots.size());
      const auto n_noise = N * static_cast<std::int64_t>(absent_slots.size());
      auto s = stats::d_prime(std::llround(hit_rate.back() * n_signal), n_signal,
                              std::llround(fa_rate.back() * n_noise), n_noise, o.correction);
      dp.push_back(s.d_prime);
      crit.push_back(s.criterion);
    }
    for (std::int64_t r = 0; r < R; ++r)
      for (int q = 0; q < kRoles; ++q) {
        auto mean_of = [&](const std::vector<std::int64_t>& idx) {
          double s = 0;
          for (auto n : idx) s += output[((n * C + c) * R + r) * kRoles + q];
          return s / static_cast<double>(idx.size());
        };
        auto ci = stats::percentile_ci(N, mean_of, o.resamples, o.seed, o.level);
        mean_out.push_back(ci.estimate);
        mean_ci.insert(mean_ci.end(), {ci.low, ci.high});
      }
  }

  // Summary on stdout.
  std::printf("%-28s %-22s %-22s %s\n", "condition", "hit rate [CI]", "false alarms [CI]", "A'");
  for (std::int64_t c = 0; c < C; ++c) {
    char h[64] = "-", f[64] = "-", a[32] = "-";
    if (hits)
      std::snprintf(h, sizeof h, "%.3f [%.3f, %.3f]", hit_rate[c], hit_ci[2 * c],
                    hit_ci[2 * c + 1]);
    if (fas)
      std::snprintf(f, sizeof f, "%.3f [%.3f, %.3f]", fa_rate[c], fa_ci[2 * c], fa_ci[2 * c + 1]);
    if (hits && fas) std::snprintf(a, sizeof a, "%.3f", ap[c]);
    std::printf("%-28s %-22s %-22s %s\n", conditions[c].name.c_str(), h, f, a);
  }
  if (o.check_naive)
    std::printf(
        "shared pass 0: %.3f s, naive: %.3f s, speed-up %.2fx; max |logit difference| %.3g, top-1 "
        "mismatches %lld\n",
        shared_s, naive_s, naive_s / shared_s, max_diff, static_cast<long long>(top1_mismatch));

  // Results.
  io::ResultFile out(o.out, run_provenance(model, o.weights, set, o.seed,
                                           {{"prototypes", o.prototypes}, {"vectors", o.vectors}}));
  auto g = out.root().require_group("steering");
  g.set_attr("composite", to_string(o.composite));
  g.set_attr("source", source);
  g.set_attr("passes", static_cast<std::int64_t>(o.passes));
  g.set_attr("readout_pass", static_cast<std::int64_t>(last));
  g.set_attr("vector_pass", static_cast<std::int64_t>(o.vector_pass));
  g.set_attr("prototypes", prototypes.origin.empty() ? std::string("none") : prototypes.origin);
  if (prototypes.pass >= 0)
    g.set_attr("prototype_pass", static_cast<std::int64_t>(prototypes.pass));
  g.set_attr("classes", classes.origin);
  g.set_attr("resamples", o.resamples);
  g.set_attr("level", o.level);
  g.set_attr("correction",
             o.correction == stats::RateCorrection::log_linear   ? std::string("log-linear")
             : o.correction == stats::RateCorrection::half_count ? std::string("half-count")
                                                                 : std::string("none"));
  g.set_attr("unique_pairs", static_cast<std::int64_t>(o.triplets.unique_pairs));
  g.set_attr("single_image_accuracy", single_image_accuracy);
  if (o.check_naive) {
    g.set_attr("shared_seconds", shared_s);
    g.set_attr("naive_seconds", naive_s);
    g.set_attr("naive_max_abs_difference", max_diff);
    g.set_attr("naive_top1_mismatches", top1_mismatch);
  }

  std::vector<std::int64_t> composite(N);
  std::vector<std::string> s1, s2, s3, c1, c2, c3;
  for (std::int64_t n = 0; n < N; ++n) {
    const auto& t = triplets[n];
    composite[n] = n;
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
  std::vector<double> alphas;
  std::vector<std::int64_t> passes;
  for (const auto& c : conditions) {
    names.push_back(c.name);
    types.push_back(c.type);
    alphas.push_back(c.alpha);
    passes.push_back(c.pass);
  }
  h5::write_coordinate(g, "condition", names);
  h5::write_aux_coordinate(g, "steering_type", "condition", types);
  h5::write_aux_coordinate(g, "pass", "condition", passes);
  h5::write_array(g, "alpha", alphas, u64({C}), {"condition"});
  std::vector<std::string> toward, target_names;
  for (auto r : o.targets) toward.push_back(to_string(r));
  for (auto r : target_slots) target_names.push_back(toward[r]);
  h5::write_coordinate(g, "steer_toward", toward);
  h5::write_coordinate(g, "output_of", std::vector<std::string>{"target1", "target2", "absent"});
  h5::write_coordinate(g, "bound", std::vector<std::string>{"low", "high"});
  h5::write_coordinate(g, "class", classes.names);

  h5::ArrayOptions per_composite;
  per_composite.coordinates = {"stimulus1",     "stimulus2", "absent_stimulus",
                               "category1",     "category2", "absent_category",
                               "steering_type", "alpha",     "pass"};
  h5::ArrayOptions per_condition;
  per_condition.coordinates = {"steering_type", "alpha", "pass"};
  // Rates are fractions of composites; A′ is 0.5 at chance; outputs are the read-out's logits.
  h5::ArrayOptions fraction = per_condition, a_prime_options = per_condition,
                   logit = per_condition;
  fraction.attrs = {{"units", "1"}};
  a_prime_options.attrs = {{"units", "1"}, {"chance", "0.5"}};
  logit.attrs = {{"units", "logit"}};
  h5::write_array(g, "top1", top1, u64({N, C, R}), {"composite", "condition", "steer_toward"},
                  per_composite);
  h5::write_array(g, "output", output, u64({N, C, R, kRoles}),
                  {"composite", "condition", "steer_toward", "output_of"}, per_composite);
  if (hits) {
    h5::write_coordinate(g, "target", target_names);
    h5::write_array(g, "hit_rate", hit_rate, u64({C}), {"condition"}, fraction);
    h5::write_array(g, "hit_rate_ci", hit_ci, u64({C, 2}), {"condition", "bound"}, fraction);
    h5::write_array(g, "hit_rate_by_target", by_target,
                    u64({C, static_cast<std::int64_t>(target_slots.size())}),
                    {"condition", "target"}, fraction);
  }
  if (fas) {
    h5::write_array(g, "false_alarm_rate", fa_rate, u64({C}), {"condition"}, fraction);
    h5::write_array(g, "false_alarm_rate_ci", fa_ci, u64({C, 2}), {"condition", "bound"}, fraction);
  }
  if (hits && fas) {
    h5::write_array(g, "a_prime", ap, u64({C}), {"condition"}, a_prime_options);
    h5::write_array(g, "a_prime_ci", ap_ci, u64({C, 2}), {"condition", "bound"},
                    a_prime_options);
    h5::write_array(g, "a_zhang_mueller", a_zm, u64({C}), {"condition"}, per_condition);
    h5::write_array(g, "d_prime", dp, u64({C}), {"condition"}, per_condition);
    h5::write_array(g, "criterion", crit, u64({C}), {"condition"}, per_condition);
  }
  h5::write_array(g, "mean_output", mean_out, u64({C, R, kRoles}),
                  {"condition", "steer_toward", "output_of"}, logit);
  h5::write_array(g, "mean_output_ci", mean_ci, u64({C, R, kRoles, 2}),
                  {"condition", "steer_toward", "output_of", "bound"}, logit);
  out.commit();
}

}  // namespace lrm::steering
