// lrmsuite._torch: the suite's models through LibTorch, imported by lrmsuite.load_model only (so
// that `import lrmsuite` does not load LibTorch). Extraction runs the model as `lrm extract` does
// (the same layer requests, recording and output selection) and keeps the arrays in memory.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <torch/torch.h>

#include <functional>
#include <optional>

#include "extract/layers.hpp"
#include "model/checkpoint.hpp"
#include "model/metadata.hpp"
#include "python/call.hpp"
#include "python/errors.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::python {
namespace {

struct SteeringArgs {
  std::string source;
  FloatArray vector;  // 1×D or N×D (one row per image)
  double strength_neg = 1, strength_pos = 1, mix = 1;
  bool first_pass = false;
};

struct Model {
  model::LoadedModel loaded;
  std::string preprocess;
};

// A tensor's data as numpy, kept alive by the tensor itself: no copy.
py::array to_numpy(torch::Tensor t) {
  t = t.contiguous();
  auto* held = new torch::Tensor(t);
  const py::capsule owner(held, [](void* p) { delete static_cast<torch::Tensor*>(p); });
  const std::vector<py::ssize_t> shape(t.sizes().begin(), t.sizes().end());
  return py::array_t<float>(shape, t.data_ptr<float>(), owner);
}

using BatchSource = std::function<torch::Tensor(std::int64_t first, std::int64_t n)>;

// Every request's array per pass (image, channel[, y, x]), images in order: batches through the
// model, their outputs kept.
std::vector<std::vector<torch::Tensor>> run(Model& m, const std::vector<extract::LayerRequest>& rq,
                                            const std::vector<int>& passes, std::int64_t n,
                                            std::int64_t batch, const BatchSource& images,
                                            const std::optional<SteeringArgs>& steer) {
  auto& net = *m.loaded.net;
  const auto record = extract::record_for(rq);
  const int n_passes = *std::max_element(passes.begin(), passes.end()) + 1;
  std::vector<std::vector<std::vector<torch::Tensor>>> parts(
      rq.size(), std::vector<std::vector<torch::Tensor>>(passes.size()));
  torch::NoGradGuard no_grad;
  for (std::int64_t first = 0; first < n; first += batch) {
    check_interrupt();
    const auto count = std::min(batch, n - first);
    std::optional<model::Steering> s;
    if (steer) {
      auto v = torch::from_blob(const_cast<float*>(steer->vector.data()),
                                {steer->vector.shape(0), steer->vector.shape(1)}, torch::kFloat);
      if (v.size(0) > 1) v = v.narrow(0, first, count);
      s = model::Steering::make(steer->source, v.clone(), 1.0, steer->mix, steer->first_pass);
      s->set_strength(steer->strength_neg, steer->strength_pos);
    }
    const auto result = net.forward(images(first, count), n_passes, s ? &*s : nullptr, record);
    for (std::size_t r = 0; r < rq.size(); ++r)
      for (std::size_t p = 0; p < passes.size(); ++p)
        parts[r][p].push_back(extract::select_output(result.passes[passes[p]], rq[r]).contiguous());
  }
  std::vector<std::vector<torch::Tensor>> out(rq.size());
  for (std::size_t r = 0; r < rq.size(); ++r)
    for (auto& p : parts[r]) out[r].push_back(torch::cat(p));
  return out;
}

py::list extract(Model& m, const BatchSource& images, std::int64_t n,
                 const std::vector<std::string>& layers, const std::vector<int>& passes,
                 const std::optional<SteeringArgs>& steer, std::int64_t batch, int threads) {
  if (passes.empty()) throw SettingError("passes", "give at least one pass");
  for (int p : passes)
    if (p < 0 || p >= model::kMaxPasses)
      throw SettingError("passes", "pass " + std::to_string(p) + " is out of range");
  if (batch < 1) throw SettingError("batch-size", "must be at least 1");
  const auto requests = extract::resolve_layers(layers, *m.loaded.net);
  const auto arrays = compute(threads, [&] {
    torch::set_num_threads(resolve_threads(threads));
    return run(m, requests, passes, n, batch, images, steer);
  });
  py::list out;
  for (std::size_t r = 0; r < requests.size(); ++r) {
    py::list per_pass;
    for (const auto& a : arrays[r]) per_pass.append(to_numpy(a));
    out.append(py::make_tuple(requests[r].name, requests[r].layer,
                              extract::output_kinds.name(requests[r].output), per_pass));
  }
  return out;
}

py::list extract_arrays(Model& m, const FloatArray& images, const std::vector<std::string>& layers,
                        const std::vector<int>& passes, const std::optional<SteeringArgs>& steer,
                        std::int64_t batch, int threads) {
  if (images.ndim() != 4) throw InputError("images: expected (image, channel, y, x)");
  const std::vector<std::int64_t> shape(images.shape(), images.shape() + 4);
  const BatchSource source = [&](std::int64_t first, std::int64_t count) {
    auto s = shape;
    s[0] = count;
    const auto per_image = shape[1] * shape[2] * shape[3];
    return torch::from_blob(const_cast<float*>(images.data()) + first * per_image, s,
                            torch::kFloat);
  };
  return extract(m, source, shape[0], layers, passes, steer, batch, threads);
}

py::tuple extract_set(Model& m, const std::string& spec, const std::vector<std::string>& layers,
                      const std::vector<int>& passes, const std::optional<SteeringArgs>& steer,
                      std::int64_t batch, int threads) {
  const auto set = stimuli::open_stimulus_set(spec);
  const auto preprocess = stimuli::Preprocess::preset(m.preprocess);
  std::vector<float> buffer;
  const BatchSource source = [&](std::int64_t first, std::int64_t count) {
    std::vector<std::int64_t> shape;
    buffer = set->load_batch(static_cast<std::size_t>(first), static_cast<std::size_t>(count),
                             preprocess, shape);
    return torch::from_blob(buffer.data(), shape, torch::kFloat);
  };
  auto arrays = extract(m, source, static_cast<std::int64_t>(set->size()), layers, passes, steer,
                        batch, threads);
  return py::make_tuple(arrays, set->ids(), set->categories());
}

Model load(const std::string& name, const std::string& weights, std::uint64_t seed) {
  Model m{model::load_model(name, weights, seed), {}};
  m.loaded.net->eval();
  m.preprocess = model::preprocess_preset(m.loaded);
  return m;
}

}  // namespace
}  // namespace lrm::python

PYBIND11_MODULE(_torch, m) {
  namespace py = pybind11;
  using namespace lrm::python;
  py::register_exception_translator(&translate_errors);
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const c10::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });
  py::class_<SteeringArgs>(m, "Steering")
      .def(py::init<std::string, FloatArray, double, double, double, bool>(), py::arg("source"),
           py::arg("vector"), py::arg("strength_neg"), py::arg("strength_pos"), py::arg("mix"),
           py::arg("first_pass"));
  py::class_<Model>(m, "Model")
      .def_property_readonly("description", [](const Model& x) { return x.loaded.description; })
      .def_property_readonly("preprocess", [](const Model& x) { return x.preprocess; })
      .def_property_readonly("meta", [](const Model& x) { return x.loaded.meta; })
      .def_property_readonly("sources", [](const Model& x) { return x.loaded.net->sources(); })
      .def("layers",
           [](Model& x) {
             std::vector<std::string> names;
             for (const auto& r : lrm::extract::resolve_layers({"all"}, *x.loaded.net))
               names.push_back(r.name);
             return names;
           })
      .def("extract_arrays", &extract_arrays)
      .def("extract_set", &extract_set);
  m.def("load_model", &load, py::arg("name"), py::arg("weights"), py::arg("seed"));
}
