#include "extract/extract.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <sstream>
#include <thread>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "extract/activation_writer.hpp"
#include "extract/bounded_queue.hpp"
#include "extract/layers.hpp"
#include "io/h5.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "model/metadata.hpp"

namespace lrm::extract {
namespace {

struct Batch {
  std::size_t first = 0, count = 0;
  std::vector<float> data;
  std::vector<std::int64_t> shape;
};

// The model: a preset and/or checkpoint, or a chain-style TorchScript module (no feedback) whose
// probe input is the first stimulus.
model::LoadedModel load_extraction_model(const ExtractOptions& o, const stimuli::StimulusSet& set) {
  if (o.torchscript.empty()) return model::load_model(o.model, o.weights, o.seed);
  if (!o.model.empty() || !o.weights.empty())
    throw InputError(
        "--torchscript excludes --model and --weights (the TorchScript file holds "
        "the weights)");
  auto pre =
      o.preprocessing ? o.preprocessing("imagenet") : stimuli::Preprocess::preset("imagenet");
  std::vector<std::int64_t> shape;
  set.load_batch(0, 1, pre, shape);
  model::LoadedModel m;
  torch::manual_seed(o.seed);
  m.net = model::LrmNet(model::Chain(model::ChainImpl::from_torchscript(o.torchscript)),
                        std::vector<model::Pathway>{}, model::Motif::multiplicative,
                        std::vector<std::int64_t>(shape.begin() + 1, shape.end()));
  m.architecture.backbone = "torchscript";
  m.description = o.torchscript;
  m.net->eval();
  return m;
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Everything that decides the file's contents; --resume continues only a run with the same one.
std::string run_signature(const ExtractOptions& o, const model::LoadedModel& m,
                          const stimuli::StimulusSet& set, const stimuli::Preprocess& pre,
                          const std::vector<LayerRequest>& requests,
                          const std::vector<Condition>& conditions) {
  std::ostringstream s;
  s << "model=" << m.description << "; architecture=" << m.architecture.to_string()
    << "; weights=" << o.weights << o.torchscript << "; seed=" << (o.weights.empty() ? o.seed : 0)
    << "; stimuli=" << set.checksum() << " (" << set.size() << ")"
    << "; preprocess=" << pre.resize << "," << pre.crop << "," << pre.channels;
  for (float v : pre.mean) s << "," << v;
  for (float v : pre.std) s << "," << v;
  std::vector<std::string> names;
  for (const auto& r : requests) names.push_back(r.name);
  s << "; layers=" << join(names) << "; passes=";
  for (int p : o.passes) s << p << " ";
  s << "; steer-source=" << o.steering.source << " first-pass=" << o.steering.first_pass;
  for (const auto& c : conditions) s << "; condition " << c.name << ": " << c.describe();
  return s.str();
}

// Checks a partial file left by an interrupted run; returns the rows to continue after.
std::uint64_t resume_point(io::ResultFile& out, const std::string& signature) {
  auto root = out.root();
  if (!root.has_group("activations"))
    throw InputError("--resume: " + io::ResultFile::partial_path(out.final_path()).string() +
                     " holds no activations; run again without --resume");
  auto g = root.group("activations");
  const auto previous = g.attr_string("extract_signature").value_or("");
  if (previous != signature)
    throw InputError("--resume: " + io::ResultFile::partial_path(out.final_path()).string() +
                     " was started with other options (" + previous +
                     "); run again without --resume or with the same options");
  return static_cast<std::uint64_t>(g.attr_number("rows_complete").value_or(0));
}

// Runs `body` on a thread; its exception is kept for the caller to rethrow after join().
class Worker {
 public:
  template <typename F>
  explicit Worker(F body)
      : thread_([this, body]() mutable {
          h5::silence_errors_on_this_thread();
          try {
            body();
          } catch (...) {
            error_ = std::current_exception();
          }
        }) {}
  ~Worker() {
    if (thread_.joinable()) thread_.join();
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace

std::vector<int> parse_passes(const std::string& text, const std::string& option) {
  std::vector<int> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    std::size_t used = 0;
    int v = -1;
    try {
      v = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0)
      throw InputError(option + ": '" + item + "' is not a pass index (0, 1, ...)");
    out.push_back(v);
  }
  if (out.empty()) throw InputError(option + ": no passes given");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void run_extraction(const ExtractOptions& o, const stimuli::StimulusSet& set) {
  if (o.batch_size < 1) throw InputError("--batch-size must be at least 1");
  const std::size_t n = set.size();
  if (n == 0) throw InputError("stimulus set " + o.stimuli + " is empty");
  if (o.passes.empty()) throw InputError("--passes: no passes given");

  // A finished file is left alone by --resume (job scripts may rerun the same command).
  const auto partial = io::ResultFile::partial_path(o.out);
  if (o.resume && !std::filesystem::exists(partial) && io::is_complete(o.out)) {
    std::fprintf(stderr, "lrm extract: %s is already complete; nothing to resume\n",
                 o.out.string().c_str());
    return;
  }

  auto loaded = load_extraction_model(o, set);
  auto& net = loaded.net;
  const auto requests = resolve_layers(o.layers, *net);
  if (o.passes.back() > 0 && net->pathways().empty())
    throw InputError("--passes: pass " + std::to_string(o.passes.back()) +
                     " is beyond the model's: " + loaded.description +
                     " has no feedback pathways, so it has pass 0 only");
  const auto conditions = make_conditions(o.steering, o.conditions, *net, n);
  const auto model_preset = model::preprocess_preset(loaded);
  const auto pre =
      o.preprocessing ? o.preprocessing(model_preset) : stimuli::Preprocess::preset(model_preset);
  const int n_passes = o.passes.back() + 1;
  const auto signature = run_signature(o, loaded, set, pre, requests, conditions);

  std::unique_ptr<io::ResultFile> out;
  std::uint64_t start = 0;
  if (o.resume && std::filesystem::exists(partial)) {
    try {
      out = std::make_unique<io::ResultFile>(io::ResultFile::resume(o.out));
    } catch (const InputError& e) {
      throw InputError("--resume: cannot reopen " + partial.string() + " (" + e.what() +
                       "); delete it and run again without --resume");
    }
    start = resume_point(*out, signature);
  } else {
    if (o.resume)
      std::fprintf(stderr, "lrm extract: no %s to resume; starting from the first stimulus\n",
                   partial.string().c_str());
    auto prov = io::current_provenance(o.seed);
    prov.inputs["model"] = loaded.description;
    prov.inputs["architecture"] = loaded.architecture.to_string();
    if (!o.weights.empty()) prov.inputs["weights_sha256"] = io::sha256_file(o.weights);
    if (!o.torchscript.empty()) prov.inputs["weights_sha256"] = io::sha256_file(o.torchscript);
    prov.inputs["stimuli"] = o.stimuli;
    prov.inputs["stimuli_checksum"] = set.checksum();
    if (!o.steering.source.empty()) prov.inputs["steering_source"] = o.steering.source;
    out = std::make_unique<io::ResultFile>(o.out, prov);
    auto g = out->root().require_group("activations");
    g.set_attr("extract_signature", signature);
    g.set_attr("batch_size", static_cast<std::int64_t>(o.batch_size));
  }

  ActivationWriter writer(out->file(), requests, o.passes, conditions, set,
                          static_cast<std::uint64_t>(o.batch_size));
  if (start > 0) writer.reopen(start);

  const auto record = record_for(requests);
  const bool shared_pass0 = conditions.size() > 1 && !o.steering.first_pass;
  Progress bar("extract", static_cast<std::int64_t>(n), "images");
  bar.advance(static_cast<std::int64_t>(start));

  // Loader → compute (this thread) → writer; queues of one or two batches bound the memory.
  BoundedQueue<Batch> loaded_batches(2);
  BoundedQueue<WriteJob> jobs(1);
  Worker loader([&] {
    try {
      for (std::size_t first = start; first < n; first += o.batch_size) {
        Batch b;
        b.first = first;
        b.count = std::min<std::size_t>(o.batch_size, n - first);
        b.data = set.load_batch(first, b.count, pre, b.shape);
        if (!loaded_batches.push(std::move(b))) return;
      }
    } catch (...) {
      loaded_batches.close();  // batches before the bad one are still computed and written
      throw;
    }
    loaded_batches.close();
  });
  Worker writing([&] {
    try {
      while (auto job = jobs.pop()) writer.write(*job);
    } catch (...) {
      jobs.abort();
      throw;
    }
  });

  try {
    torch::NoGradGuard no_grad;
    while (auto b = loaded_batches.pop()) {
      check_interrupt();
      auto x = torch::from_blob(b->data.data(), b->shape, torch::kFloat);
      WriteJob job;
      job.first = b->first;
      job.count = b->count;
      job.arrays.resize(writer.dataset_count());
      model::ForwardResult pass0;
      if (shared_pass0) pass0 = net->forward(x, 1, nullptr, record);
      for (std::size_t k = 0; k < conditions.size(); ++k) {
        model::Steering steering;
        if (conditions[k].steered())
          steering = batch_steering(conditions[k], o.steering, b->first, b->count);
        const auto* s = conditions[k].steered() ? &steering : nullptr;
        auto result = shared_pass0 && n_passes > 1
                          ? net->forward_from(pass0.state, x, n_passes, s, record)
                      : shared_pass0 ? pass0
                                     : net->forward(x, n_passes, s, record);
        for (std::size_t p = 0; p < o.passes.size(); ++p) {
          const auto& pass = shared_pass0 && o.passes[p] == 0
                                 ? pass0.passes[0]
                                 : result.passes[o.passes[p] - (shared_pass0 ? 1 : 0)];
          for (std::size_t r = 0; r < requests.size(); ++r)
            job.arrays[writer.index(r, p, k)] = select_output(pass, requests[r]);
        }
      }
      if (!jobs.push(std::move(job))) break;  // the writer failed; its error is rethrown below
      bar.advance(static_cast<std::int64_t>(b->count));
    }
  } catch (...) {
    loaded_batches.abort();
    jobs.close();  // batches already computed are still written, so --resume skips them
    loader.join();
    writing.join();
    throw;
  }
  jobs.close();
  loaded_batches.abort();
  loader.join();
  writing.join();
  loader.rethrow();
  writing.rethrow();
  bar.finish();
  out->commit();
}

}  // namespace lrm::extract
