// Bindings of the analyses that take arrays: the localizer, RDMs and their comparison, encoding
// models and the internal-consistency ceiling. Results come back as dicts of numpy arrays, which
// lrmsuite labels as the HDF5 layout does.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "common/error.hpp"
#include "compare/crossnobis.hpp"
#include "compare/encoding.hpp"
#include "compare/rdm.hpp"
#include "compare/rsa.hpp"
#include "io/assembly.hpp"
#include "io/neural_responses.hpp"
#include "localizer/localizer.hpp"
#include "python/call.hpp"

namespace lrm::python {
namespace {

// A numpy view of `values`, kept alive by `owner` (the result that holds them): no copy out.
template <typename Vector>
py::array view(const Vector& values, std::vector<py::ssize_t> shape, const py::object& owner) {
  using T = typename Vector::value_type;
  return py::array(py::dtype::of<T>(), std::move(shape), values.data(), owner);
}

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + ")";
}

py::dict target_dict(const localizer::TargetResult& r, bool with_ratio, const py::object& owner) {
  const std::vector<py::ssize_t> cu{static_cast<py::ssize_t>(r.others.size()), r.n_units};
  py::dict d;
  d["target"] = r.target;
  d["comparison"] = r.others;
  d["t"] = view(r.t, cu, owner);
  d["p_adjusted"] = view(r.p_adjusted, cu, owner);
  d["rejected"] = view(r.rejected, cu, owner);
  if (with_ratio) d["ratio"] = view(r.ratio, cu, owner);
  d["selective"] = view(r.selective, {r.n_units}, owner);
  d["mean_t"] = view(r.mean_t, {r.n_units}, owner);
  d["mean_p_adjusted"] = view(r.mean_p_adjusted, {r.n_units}, owner);
  d["n_positive_rejected"] = r.n_positive_rejected;
  d["n_undefined"] = r.n_undefined;
  d["n_units"] = r.n_units;
  d["n_images"] = r.n_images;
  d["n_selective"] = r.n_selective;
  d["n_selective_ttest"] = r.n_selective_ttest;
  return d;
}

py::dict localize(const FloatArray& acts, const std::vector<std::string>& category,
                  const std::vector<std::string>& targets, const std::vector<std::string>& others,
                  const std::string& test, const std::string& fdr, double q,
                  std::optional<double> ratio, int threads) {
  if (acts.ndim() != 2)
    throw InputError("activations: expected (stimulus, unit), got " + std::to_string(acts.ndim()) +
                     " dimensions");
  localizer::Options options;
  options.targets = targets;
  options.others = others;
  options.test = localizer::ttest_kind_names.parse(test, "test");
  options.fdr = stats::fdr_method_names.parse(fdr, "fdr");
  options.q = q;
  options.ratio = ratio;
  auto result = std::make_shared<localizer::LayerResult>(compute(threads, [&] {
    return localizer::localize(acts.data(), acts.shape(0), acts.shape(1), category, options,
                               "activations");
  }));
  // The arrays stay in the result's buffers, which the capsule frees with the last view.
  const py::object owner =
      py::capsule(new std::shared_ptr<localizer::LayerResult>(result),
                  [](void* p) { delete static_cast<std::shared_ptr<localizer::LayerResult>*>(p); });
  py::dict out;
  out["category"] = result->categories;
  out["n_images"] = result->n_images;
  out["nonfinite"] = view(result->nonfinite, {acts.shape(1)}, owner);
  out["n_nonfinite"] = result->n_nonfinite;
  out["n_units_nonfinite"] = result->n_units_nonfinite;
  py::list per_target;
  for (const auto& t : result->targets) per_target.append(target_dict(t, ratio.has_value(), owner));
  out["targets"] = per_target;
  return out;
}

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A (k, n, n) array as k square matrices; `what` names the argument.
std::vector<Eigen::MatrixXd> square_stack(const DoubleArray& a, const std::string& what) {
  if (a.ndim() != 3 || a.shape(1) != a.shape(2))
    throw InputError(what + ": expected square RDMs (stimulus, stimulus), got shape " +
                     shape_text(a));
  const auto n = a.shape(1);
  std::vector<Eigen::MatrixXd> out;
  for (py::ssize_t k = 0; k < a.shape(0); ++k)
    out.emplace_back(Eigen::Map<const RowMatrixXd>(a.data() + k * n * n, n, n));
  return out;
}

// Correlation distance centres and scales the rows in place: in the caller's array with
// `overwrite` (float32, C order, writeable), else in a copy.
Eigen::MatrixXd rdm_of_features(const py::array& features, bool overwrite, int threads) {
  using Exact = py::array_t<float, py::array::c_style>;
  if (overwrite && Exact::check_(features) && features.writeable() && features.ndim() == 2) {
    auto a = py::reinterpret_borrow<Exact>(features);
    Eigen::Map<compare::RowMatrixXf> x(a.mutable_data(), a.shape(0), a.shape(1));
    return compute(threads, [&] { return compare::rdm_correlation(x, "features"); });
  }
  const auto a = FloatArray::ensure(features);
  if (!a || a.ndim() != 2) throw InputError("features: expected a (stimulus, feature) array");
  compare::RowMatrixXf x = Eigen::Map<const compare::RowMatrixXf>(a.data(), a.shape(0), a.shape(1));
  return compute(threads, [&] { return compare::rdm_correlation(x, "features"); });
}

Eigen::MatrixXd rdm(const py::array& features, const std::string& method, bool overwrite,
                    int threads) {
  switch (compare::rdm_method_names.parse(method, "method")) {
    case compare::RdmMethod::correlation:
      return rdm_of_features(features, overwrite, threads);
    case compare::RdmMethod::euclidean: {
      const auto a = FloatArray::ensure(features);
      if (!a || a.ndim() != 2) throw InputError("features: expected a (stimulus, feature) array");
      const compare::RowMatrixXf x =
          Eigen::Map<const compare::RowMatrixXf>(a.data(), a.shape(0), a.shape(1));
      return compute(threads, [&] { return compare::rdm_euclidean(x); });
    }
    case compare::RdmMethod::crossvalidated: {
      const auto a = DoubleArray::ensure(features);
      if (!a || a.ndim() != 3)
        throw InputError(
            "features: cross-validated distances need (repetition, stimulus, feature)");
      std::vector<Eigen::MatrixXd> reps;
      const auto size = a.shape(1) * a.shape(2);
      for (py::ssize_t k = 0; k < a.shape(0); ++k)
        reps.emplace_back(
            Eigen::Map<const RowMatrixXd>(a.data() + k * size, a.shape(1), a.shape(2)));
      return compute(threads, [&] { return compare::rdm_crossvalidated(reps); });
    }
    case compare::RdmMethod::crossnobis:
      throw InputError("method: crossnobis needs run labels (lrmsuite.rdm passes them)");
  }
  throw InternalError("unknown RDM method");
}

// Crossnobis of measurements (measurement, channel) labelled by condition and run (0-based codes).
Eigen::MatrixXd crossnobis(const DoubleArray& measurements,
                           const std::vector<Eigen::Index>& condition,
                           const std::vector<Eigen::Index>& run, const std::string& noise,
                           int threads) {
  if (measurements.ndim() != 2)
    throw InputError("features: crossnobis needs (measurement, feature) measurements");
  compare::CrossnobisData d;
  d.measurements = Eigen::Map<const RowMatrixXd>(measurements.data(), measurements.shape(0),
                                                 measurements.shape(1));
  d.condition_of = condition;
  d.run_of = run;
  if (condition.size() != std::size_t(d.measurements.rows()) || run.size() != condition.size())
    throw InputError("features: one condition and one run label per measurement");
  for (auto c : condition) d.conditions = std::max(d.conditions, c + 1);
  for (auto r : run) d.runs = std::max(d.runs, r + 1);
  if (d.runs < 2) throw InputError("run: crossnobis needs 2 or more runs");
  const auto kind = compare::noise_precision_names.parse(noise, "noise");
  return compute(threads, [&] {
    const auto precision = compare::noise_precision(d, kind, "features");
    return compare::rdm_crossnobis(d, precision, "features");
  });
}

Eigen::MatrixXd compare_rdms(const DoubleArray& a, const DoubleArray& b,
                             const std::string& comparison) {
  const auto c = stats::correlation_names.parse(comparison, "comparison");
  const auto models = square_stack(a, "a"), brains = square_stack(b, "b");
  return compute(0, [&] {
    Eigen::MatrixXd r(static_cast<Eigen::Index>(models.size()),
                      static_cast<Eigen::Index>(brains.size()));
    for (std::size_t i = 0; i < models.size(); ++i)
      for (std::size_t j = 0; j < brains.size(); ++j)
        r(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
            compare::compare_rdms(models[i], brains[j], c);
    return r;
  });
}

py::dict noise_ceiling(const DoubleArray& rdms, const std::string& comparison, bool squared,
                       const std::string& pool) {
  const auto c = stats::correlation_names.parse(comparison, "comparison");
  const auto how = compare::ceiling_pool_names.parse(pool, "pool");
  const auto subjects = square_stack(rdms, "rdms");
  if (subjects.size() < 2) throw InputError("rdms: a noise ceiling needs at least 2 RDMs");
  const auto nc = compute(0, [&] { return compare::noise_ceiling(subjects, c, squared, how); });
  py::dict d;
  d["noise_ceiling_upper"] = nc.upper;
  d["noise_ceiling_lower"] = nc.lower;
  d["noise_ceiling_upper_per_rdm"] = nc.upper_per_subject;
  d["noise_ceiling_lower_per_rdm"] = nc.lower_per_subject;
  return d;
}

// `model_rows[i]`: the feature row of response row i (from join_stimuli); empty: the same rows.
py::dict encode(const FloatArray& features, const DoubleArray& responses,
                const compare::Rows& model_rows, const std::vector<std::string>& categories,
                const std::string& regression, int pls_components, int splits, double test_fraction,
                std::uint64_t seed, int threads) {
  if (features.ndim() != 2) throw InputError("features: expected a (stimulus, feature) array");
  if (responses.ndim() != 2) throw InputError("responses: expected a (stimulus, neuroid) array");
  const auto rows = model_rows.empty() ? compare::all_rows(features.shape(0)) : model_rows;
  if (responses.shape(0) != static_cast<py::ssize_t>(rows.size()))
    throw InputError("responses: " + std::to_string(responses.shape(0)) +
                     " stimuli, features: " + std::to_string(rows.size()));
  compare::PredictivityOptions options;
  options.regression = compare::parse_regression(regression);
  options.pls_components = pls_components;
  options.splits = splits;
  options.test_fraction = test_fraction;
  options.seed = seed;
  const compare::FeatureMatrix x(features.data(), features.shape(0), features.shape(1));
  const Eigen::MatrixXd y =
      Eigen::Map<const RowMatrixXd>(responses.data(), responses.shape(0), responses.shape(1));
  const auto p = compute(
      threads, [&] { return compare::neural_predictivity(x, rows, y, categories, options); });
  return py::dict(py::arg("r") = p.r, py::arg("median_per_split") = p.median_per_split,
                  py::arg("score_raw") = p.score, py::arg("score_error") = p.error,
                  py::arg("undefined_neuroids") = p.undefined_neuroids,
                  py::arg("pls_components_used") = p.components_used);
}

// A labelled array (as xarray holds it) in the core's form, so responses are grouped by the
// same code as a file's: `coords` maps a name to its dimension and values as text.
io::Assembly assembly(
    const DoubleArray& data, const std::vector<std::string>& dims,
    const std::map<std::string, std::pair<std::string, std::vector<std::string>>>& coords) {
  if (static_cast<std::size_t>(data.ndim()) != dims.size())
    throw InputError("responses: " + std::to_string(dims.size()) + " dimension names for " +
                     std::to_string(data.ndim()) + " dimensions");
  io::Assembly a;
  a.source = "responses";
  a.dims = dims;
  for (py::ssize_t i = 0; i < data.ndim(); ++i) a.shape.push_back(data.shape(i));
  a.data.assign(data.data(), data.data() + data.size());
  for (const auto& [name, coord] : coords) {
    io::Coordinate c;
    c.dim = coord.first;
    c.text = coord.second;
    a.coords[name] = std::move(c);
  }
  return a;
}

py::dict group_responses(const io::NeuralResponses& r) {
  return py::dict(py::arg("stimulus") = r.stimulus_ids, py::arg("neuroid") = r.neuroid_ids,
                  py::arg("category") = r.categories, py::arg("mean") = r.mean,
                  py::arg("repetitions") = r.counts, py::arg("missing_responses") = r.missing,
                  py::arg("time_bins_averaged") = r.time_bins_averaged);
}

py::dict ceiling(
    const DoubleArray& data, const std::vector<std::string>& dims,
    const std::map<std::string, std::pair<std::string, std::vector<std::string>>>& coords,
    const std::string& stimulus_coord, int halvings, std::uint64_t seed, int threads) {
  const auto responses =
      io::group_responses(assembly(data, dims, coords), {stimulus_coord, std::string()});
  const auto ic =
      compute(threads, [&] { return compare::internal_consistency(responses, halvings, seed); });
  py::dict d = group_responses(responses);
  d["ceiling"] = ic.ceiling;
  d["ceiling_per_halving"] = ic.per_halving;
  d["ceiling_per_neuroid"] = ic.per_neuroid;
  d["undefined_neuroids"] = ic.undefined_neuroids;
  return d;
}

}  // namespace

void add_analyses(py::module_& m) {
  using py::arg;
  m.def("localize", &localize, arg("activations"), arg("category"), arg("targets"), arg("others"),
        arg("test"), arg("fdr"), arg("q"), arg("ratio"), arg("threads"));
  m.def("rdm", &rdm, arg("features"), arg("method"), arg("overwrite"), arg("threads"));
  m.def("crossnobis", &crossnobis, arg("measurements"), arg("condition"), arg("run"), arg("noise"),
        arg("threads"));
  m.def("compare_rdms", &compare_rdms, arg("a"), arg("b"), arg("comparison"));
  m.def("noise_ceiling", &noise_ceiling, arg("rdms"), arg("comparison"), arg("squared"),
        arg("pool"));
  m.def("encode", &encode, arg("features"), arg("responses"), arg("model_rows"), arg("categories"),
        arg("regression"), arg("pls_components"), arg("splits"), arg("test_fraction"), arg("seed"),
        arg("threads"));
  m.def("ceiling", &ceiling, arg("data"), arg("dims"), arg("coords"), arg("stimulus_coord"),
        arg("halvings"), arg("seed"), arg("threads"));
  m.def(
      "group_responses",
      [](const DoubleArray& data, const std::vector<std::string>& dims,
         const std::map<std::string, std::pair<std::string, std::vector<std::string>>>& coords,
         const std::string& stimulus_coord, const std::string& category_coord) {
        return group_responses(
            io::group_responses(assembly(data, dims, coords), {stimulus_coord, category_coord}));
      },
      arg("data"), arg("dims"), arg("coords"), arg("stimulus_coord"), arg("category_coord"));
  m.def(
      "join_stimuli",
      [](const std::vector<std::string>& model_ids, const std::vector<std::string>& brain_ids) {
        const auto j = io::join_stimuli(model_ids, "features", brain_ids, "responses");
        return py::make_tuple(j.model_rows, j.brain_rows, j.matched_by);
      },
      arg("model_ids"), arg("brain_ids"));
  m.def("ceil_score", [](double raw, double c) {
    const auto s = compare::ceil_score(raw, c);
    return py::dict(py::arg("score_ceiled") = s.ceiled,
                    py::arg("score_ceiled_squared") = s.ceiled_squared,
                    py::arg("explained_variance_ceiled") = s.explained_variance_ceiled);
  });
}

}  // namespace lrm::python
