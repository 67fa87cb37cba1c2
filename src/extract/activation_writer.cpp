#include "extract/activation_writer.hpp"

#include <exception>

#include "common/error.hpp"
#include "common/threads.hpp"
#include "io/activation_file.hpp"

namespace lrm::extract {

ActivationWriter::ActivationWriter(h5::File& file, std::vector<LayerRequest> requests,
                                   std::vector<int> passes, std::vector<Condition> conditions,
                                   const stimuli::StimulusSet& set, std::uint64_t batch_rows,
                                   std::vector<Reducer> reducers)
    : file_(file),
      activations_(file.root().require_group(io::activations_group)),
      requests_(std::move(requests)),
      passes_(std::move(passes)),
      conditions_(std::move(conditions)),
      set_(set),
      batch_rows_(batch_rows),
      reducers_(std::move(reducers)) {}

std::size_t ActivationWriter::index(std::size_t request, std::size_t pass,
                                    std::size_t condition) const {
  return (request * passes_.size() + pass) * conditions_.size() + condition;
}

std::string ActivationWriter::dataset_name(std::size_t pass, std::size_t condition) const {
  return io::activation_dataset_name(passes_[pass], conditions_[condition].name);
}

std::vector<std::string> ActivationWriter::write_units(
    const h5::Group& g, std::size_t request, const std::vector<std::int64_t>& sizes) const {
  // Units are numbered in C order over the layer's C×H×W (vector layers: C×1×1).
  const std::int64_t c = sizes[1], h = sizes.size() == 4 ? sizes[2] : 1,
                     w = sizes.size() == 4 ? sizes[3] : 1;
  std::vector<std::int64_t> unit(c * h * w), channel(unit.size()), y(unit.size()), x(unit.size());
  for (std::int64_t i = 0; i < c * h * w; ++i) {
    unit[i] = i;
    channel[i] = i / (h * w);
    y[i] = (i / w) % h;
    x[i] = i % w;
  }
  h5::write_coordinate(g, "unit", unit);
  // Projected units (srp, pca) have no place in the feature map.
  if (!reducers_.empty() && !reducers_[request].positional()) return {};
  h5::write_aux_coordinate(g, "channel", "unit", channel);
  h5::write_aux_coordinate(g, "y", "unit", y);
  h5::write_aux_coordinate(g, "x", "unit", x);
  return {"channel", "y", "x"};
}

void ActivationWriter::create(const WriteJob& first) {
  const std::uint64_t n = set_.size();
  for (std::size_t r = 0; r < requests_.size(); ++r) {
    const auto& req = requests_[r];
    auto sizes = first.arrays[index(r, 0, 0)].sizes().vec();
    auto g = activations_.require_group(req.name);
    g.set_attr("layer", req.layer);
    g.set_attr("output", output_kinds.name(req.output));
    std::string unit_shape;
    for (std::size_t d = 1; d < sizes.size(); ++d)
      unit_shape += (d > 1 ? "," : "") + std::to_string(sizes[d]);
    g.set_attr("unit_shape", unit_shape);
    if (!reducers_.empty()) reducers_[r].describe(g);
    h5::write_coordinate(g, "stimulus", set_.ids());
    h5::write_aux_coordinate(g, "category", "stimulus", set_.categories());
    auto coordinates = write_units(g, r, sizes);
    coordinates.insert(coordinates.begin(), "category");
    std::uint64_t units = 1;
    for (std::size_t d = 1; d < sizes.size(); ++d) units *= static_cast<std::uint64_t>(sizes[d]);
    for (std::size_t p = 0; p < passes_.size(); ++p) {
      for (std::size_t k = 0; k < conditions_.size(); ++k) {
        const auto& cond = conditions_[k];
        h5::ArrayOptions opts;
        opts.coordinates = coordinates;
        opts.attrs = {{"pass", std::to_string(passes_[p])}};
        if (!cond.name.empty()) {
          g.require_group(io::pass_dataset_name(passes_[p]));
          opts.attrs.push_back({"condition", cond.name});
          opts.attrs.push_back({"steering", cond.describe()});
        }
        writers_.emplace_back(g, dataset_name(p, k), std::vector<std::uint64_t>{units}, n,
                              batch_rows_, std::vector<std::string>{"stimulus", "unit"}, opts);
      }
    }
  }
  activations_.set_attr("rows_complete", std::int64_t{0});
  file_.flush();
  // An MPI rank's part starts at its first row (rank_parts.hpp).
  if (first.first == 0) return open_direct();
  writers_.clear();
  reopen(first.first);
}

void ActivationWriter::open_direct() {
  for (const auto& req : requests_) {
    auto g = activations_.group(req.name);
    for (std::size_t p = 0; p < passes_.size(); ++p)
      for (std::size_t k = 0; k < conditions_.size(); ++k)
        direct_.push_back(h5::DirectRows::open(g, dataset_name(p, k), batch_rows_));
  }
}

void ActivationWriter::reopen(std::uint64_t rows) {
  for (const auto& req : requests_) {
    auto g = activations_.group(req.name);
    for (std::size_t p = 0; p < passes_.size(); ++p)
      for (std::size_t k = 0; k < conditions_.size(); ++k)
        writers_.push_back(h5::RowWriter<float>::reopen(g, dataset_name(p, k), rows));
  }
  open_direct();
}

void ActivationWriter::write(const WriteJob& job) {
  if (!ready()) create(job);
  std::vector<torch::Tensor> rows(writers_.size());
  struct Task {
    std::size_t dataset, chunk;
  };
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < writers_.size(); ++i) {
    rows[i] = job.arrays[i].flatten(1).contiguous();
    if (static_cast<std::uint64_t>(rows[i].size(1)) != writers_[i].row_size())
      throw InputError("activations of " +
                       requests_[i / (passes_.size() * conditions_.size())].name +
                       " change size between batches (stimuli of different sizes?)");
    if (!direct_[i]) continue;
    const auto n = direct_[i]->chunk_count(job.first, job.count);
    for (std::size_t k = 0; k < n; ++k) tasks.push_back({i, k});
  }
  std::vector<std::vector<unsigned char>> encoded(tasks.size());
  std::exception_ptr failure;  // an exception must not leave an OpenMP region
#pragma omp parallel num_threads(lrm::threads())
  {
    std::optional<h5::ChunkEncoder> encoder;
#pragma omp for schedule(dynamic)
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      try {
        if (!encoder) encoder.emplace();
        encoded[t] = direct_[tasks[t].dataset]->encode(
            tasks[t].chunk, rows[tasks[t].dataset].data_ptr<float>(), job.count, *encoder);
      } catch (...) {
#pragma omp critical
        failure = std::current_exception();
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
  for (std::size_t t = 0; t < tasks.size(); ++t)
    direct_[tasks[t].dataset]->write(tasks[t].chunk, job.first, encoded[t]);
  for (std::size_t i = 0; i < writers_.size(); ++i) {
    if (direct_[i])
      direct_[i]->finish_rows(job.first, job.count);
    else
      writers_[i].append(rows[i].data_ptr<float>(), job.count);
  }
  file_.flush();
  activations_.set_attr("rows_complete", static_cast<std::int64_t>(job.first + job.count));
}

}  // namespace lrm::extract
