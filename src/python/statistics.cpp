// Bindings of the signal-detection indices of steering, and of the pieces the encoding metric is
// made of (its splits and a PLS fit), which the tests compare with scikit-learn.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "common/error.hpp"
#include "compare/encoding.hpp"
#include "compare/regression.hpp"
#include "python/call.hpp"
#include "stats/signal_detection.hpp"

namespace lrm::python {
namespace {

using CountArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// Element-wise over equally shaped count arrays, as `lrm steer` scores each condition: A′ and A
// from the raw rates, d′ and c from the corrected ones.
py::dict signal_detection(const CountArray& hits, const CountArray& false_alarms,
                          const CountArray& n_signal, const CountArray& n_noise,
                          const std::string& correction) {
  const auto c = stats::rate_correction_names.parse(correction, "correction");
  const auto n = hits.size();
  if (false_alarms.size() != n || n_signal.size() != n || n_noise.size() != n)
    throw InputError("hits, false_alarms, n_signal and n_noise must have the same size");
  std::vector<py::ssize_t> shape(hits.shape(), hits.shape() + hits.ndim());
  py::array_t<double> hit_rate(shape), fa_rate(shape), a_prime(shape), a(shape), d(shape),
      criterion(shape);
  for (py::ssize_t i = 0; i < n; ++i) {
    const auto h = hits.data()[i], f = false_alarms.data()[i];
    const auto ns = n_signal.data()[i], nn = n_noise.data()[i];
    if (ns < 1 || nn < 1) throw InputError("n_signal and n_noise must be at least 1");
    const auto s = stats::d_prime(h, ns, f, nn, c);
    const double hr = static_cast<double>(h) / static_cast<double>(ns);
    const double fr = static_cast<double>(f) / static_cast<double>(nn);
    hit_rate.mutable_data()[i] = hr;
    fa_rate.mutable_data()[i] = fr;
    a_prime.mutable_data()[i] = stats::a_prime(hr, fr);
    a.mutable_data()[i] = stats::a_zhang_mueller(hr, fr);
    d.mutable_data()[i] = s.d_prime;
    criterion.mutable_data()[i] = s.criterion;
  }
  return py::dict(py::arg("hit_rate") = hit_rate, py::arg("false_alarm_rate") = fa_rate,
                  py::arg("a_prime") = a_prime, py::arg("a_zhang_mueller") = a,
                  py::arg("d_prime") = d, py::arg("criterion") = criterion);
}

py::list splits(Eigen::Index n, const std::vector<std::string>& categories, int n_splits,
                double test_fraction, std::uint64_t seed) {
  py::list out;
  for (const auto& s :
       compare::stratified_shuffle_splits(n, categories, n_splits, test_fraction, seed))
    out.append(py::make_tuple(py::cast(s.train), py::cast(s.test)));
  return out;
}

Eigen::MatrixXd pls_predict(const FloatArray& features, const DoubleArray& y,
                            const compare::Rows& train, const compare::Rows& test,
                            int n_components) {
  if (features.ndim() != 2 || y.ndim() != 2)
    throw InputError("features and y must be 2-dimensional");
  const compare::FeatureMatrix x(features.data(), features.shape(0), features.shape(1));
  Eigen::MatrixXd y_train(static_cast<Eigen::Index>(train.size()), y.shape(1));
  for (std::size_t i = 0; i < train.size(); ++i)
    for (py::ssize_t j = 0; j < y.shape(1); ++j)
      y_train(static_cast<Eigen::Index>(i), j) = y.at(train[i], j);
  return compute(0, [&] {
    return compare::fit_pls(x, train, y_train, {n_components, 500, 1e-6}).predict(x, test);
  });
}

}  // namespace

void add_statistics(py::module_& m) {
  using py::arg;
  m.def("signal_detection", &signal_detection, arg("hits"), arg("false_alarms"), arg("n_signal"),
        arg("n_noise"), arg("correction"));
  m.def("splits", &splits, arg("n"), arg("categories"), arg("splits"), arg("test_fraction"),
        arg("seed"));
  m.def("pls_predict", &pls_predict, arg("features"), arg("y"), arg("train"), arg("test"),
        arg("n_components"));
  // The address the bindings read a float32 argument at: the array's own when no copy was made.
  m.def("input_address",
        [](const FloatArray& a) { return reinterpret_cast<std::uintptr_t>(a.data()); });
}

}  // namespace lrm::python
