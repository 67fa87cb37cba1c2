#include "extract/extract.hpp"

#include <hdf5.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <numeric>
#include <sstream>
#include <thread>

#include "common/bounded_queue.hpp"
#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/mpi.hpp"
#include "common/progress.hpp"
#include "common/text.hpp"
#include "extract/activation_writer.hpp"
#include "extract/rank_parts.hpp"
#include "extract/reduce.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"
#include "io/provenance_attrs.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "model/metadata.hpp"
#include "model/transfer.hpp"
#include "stimuli/batch_stream.hpp"

namespace lrm::extract {
namespace {

void check_pass_range(int pass, const std::string& setting) {
  if (pass >= model::kMaxPasses)
    throw SettingError(setting, "pass " + std::to_string(pass) +
                                    " is beyond the most a run computes (" +
                                    std::to_string(model::kMaxPasses - 1) + ")");
}

// Everything the run computes, decided before the first batch.
struct ExtractionPlan {
  model::LoadedModel model;
  std::vector<LayerRequest> requests;
  std::vector<Condition> conditions;
  stimuli::Preprocess preprocess;
  model::Record record;
  int n_passes = 1;           // passes the model runs (the highest requested + 1)
  bool shared_pass0 = false;  // pass 0 runs once for all conditions (none steers it)
  std::string signature;
  std::vector<Reducer> reducers;  // one per request; empty: no reduction
  bool fit_pca = false;           // pca fits on the fitting set before the first batch
};

// Where this process writes: the output or, when several MPI ranks share the run, its part of the
// rows into its part file (rank_parts.hpp).
struct Destination {
  std::filesystem::path base;  // the ResultFile's path (it writes <base>.partial)
  RowRange rows;
  int rank = 0, ranks = 1;
};

Destination destination_of(const ExtractOptions& o, std::uint64_t n) {
  Destination t;
  t.rank = mpi::rank();
  t.ranks = mpi::size();
  t.base = t.ranks > 1 ? part_base(o.out, t.rank) : o.out;
  t.rows = t.ranks > 1 ? rank_rows(n, static_cast<std::uint64_t>(o.batch_size), t.rank, t.ranks)
                       : RowRange{0, n};
  return t;
}

// The model: a preset and/or checkpoint, or a chain-style TorchScript module (with the pathways and
// motif of the model options) whose probe input is the first stimulus.
model::LoadedModel load_extraction_model(const ExtractOptions& o, const stimuli::StimulusSet& set) {
  if (o.torchscript.empty()) return model::load_model(o.model, o.weights, o.seed);
  if (!o.weights.empty())
    throw SettingError("torchscript", "excludes weights (the TorchScript file holds the weights)");
  auto pre =
      o.preprocessing ? o.preprocessing("imagenet") : stimuli::Preprocess::preset("imagenet");
  std::vector<std::int64_t> shape;
  set.load_batch(0, 1, pre, shape);
  return model::load_torchscript(o.torchscript, o.model, {shape.begin() + 1, shape.end()}, o.seed);
}

// Everything that decides the file's contents; --resume continues only a run with the same one.
std::string run_signature(const ExtractOptions& o, const ExtractionPlan& plan,
                          const stimuli::StimulusSet& set) {
  const auto& m = plan.model;
  const auto& pre = plan.preprocess;
  std::ostringstream s;
  s << "model=" << m.description << "; architecture=" << m.architecture.to_string()
    << "; weights=" << o.weights << o.torchscript << "; seed=" << (o.weights.empty() ? o.seed : 0)
    << "; stimuli=" << set.checksum() << " (" << set.size() << ")"
    << "; preprocess=" << pre.resize << "," << pre.crop << "," << pre.channels;
  for (float v : pre.mean) s << "," << v;
  for (float v : pre.std) s << "," << v;
  std::vector<std::string> names;
  for (const auto& r : plan.requests) names.push_back(r.name);
  s << "; layers=" << join(names, ",") << "; passes=";
  for (int p : o.passes) s << p << " ";
  s << "; steer-source=" << o.steering.source << " first-pass=" << o.steering.first_pass;
  for (const auto& c : plan.conditions) s << "; condition " << c.name << ": " << c.describe();
  return s.str();
}

// The unit shape (C×H×W or C) of every request, from pass 0 of the first stimulus.
std::vector<std::vector<std::int64_t>> probe_unit_shapes(ExtractionPlan& plan,
                                                         const stimuli::StimulusSet& set) {
  std::vector<std::int64_t> shape;
  auto data = set.load_batch(0, 1, plan.preprocess, shape);
  torch::NoGradGuard no_grad;
  auto result = plan.model.net->forward(torch::from_blob(data.data(), shape, torch::kFloat), 1,
                                        nullptr, plan.record);
  std::vector<std::vector<std::int64_t>> out;
  for (const auto& r : plan.requests) {
    const auto sizes = select_output(result.passes[0], r).sizes().vec();
    out.emplace_back(sizes.begin() + 1, sizes.end());
  }
  return out;
}

// Gives every pca reducer its fit for each extracted pass, stored in `file`.
void attach_fits(ExtractionPlan& plan, const ExtractOptions& o, const PcaFits& fits,
                 const std::filesystem::path& file) {
  for (std::size_t r = 0; r < plan.requests.size(); ++r) {
    if (plan.reducers[r].reduction().kind != ReduceKind::pca) continue;
    const auto& name = plan.requests[r].name;
    std::vector<std::shared_ptr<const PcaFit>> per_pass;
    for (int pass : o.passes) per_pass.push_back(find_pca_fit(fits, name, pass, file));
    plan.reducers[r].set_pca(per_pass, file.string() + ":/" + pca_group + "/" + name);
  }
}

// Checks --reduce against the requested layers' shapes and the pca source; makes the reducers.
void plan_reductions(ExtractionPlan& plan, const ExtractOptions& o,
                     const stimuli::StimulusSet& set) {
  const bool fitting = o.pca_fit_set != nullptr, stored = !o.pca_from.empty();
  if (fitting && stored)
    throw SettingError("pca-from",
                       "excludes a fitting set (pca-fit): fit new components or use "
                       "stored ones, not both");
  if (o.reduce.empty()) {
    if (fitting || stored)
      throw SettingError(fitting ? "pca-fit" : "pca-from", "no layer uses pca");
    return;
  }
  const auto spec = parse_reduce_spec(o.reduce, "reduce");
  std::vector<std::string> names;
  for (const auto& r : plan.requests) names.push_back(r.name);
  for (const auto& item : spec.per_layer)
    if (std::find(names.begin(), names.end(), item.first) == names.end())
      throw SettingError("reduce", "names layer " + item.first + ", which is not extracted (" +
                                       join(names, ", ") + ")");
  const auto shapes = probe_unit_shapes(plan, set);
  bool pca = false;
  for (std::size_t r = 0; r < names.size(); ++r) {
    const auto& reduction = spec.for_layer(names[r]);
    plan.reducers.emplace_back(reduction, names[r], shapes[r], o.seed);
    if (reduction.kind != ReduceKind::pca) continue;
    pca = true;
    if (fitting && reduction.k == 0)
      throw SettingError("reduce", "pca for layer " + names[r] + " needs a count (pca:K) to fit");
    if (fitting && reduction.k > static_cast<std::int64_t>(o.pca_fit_set->size()))
      throw SettingError("reduce", reduction.text() + " for layer " + names[r] +
                                       " asks for more components than the fitting set has "
                                       "stimuli (" +
                                       std::to_string(o.pca_fit_set->size()) + ")");
  }
  if (pca != (fitting || stored))
    throw pca
        ? SettingError("reduce", "pca needs a fitting set (pca-fit) or stored fits (pca-from)")
        : SettingError(fitting ? "pca-fit" : "pca-from", "no layer uses pca");
  plan.fit_pca = fitting;
  if (stored)
    attach_fits(plan, o, read_pca_fits(h5::File(o.pca_from, h5::File::Mode::read)), o.pca_from);
  std::ostringstream s;
  s << "; reduce=";
  for (std::size_t r = 0; r < names.size(); ++r)
    s << names[r] << "=" << plan.reducers[r].reduction().text() << " ";
  s << "seed " << o.seed;
  if (fitting)
    s << "; pca-fit=" << o.pca_fit_set->checksum() << " (" << o.pca_fit_set->size() << ")";
  if (stored) s << "; pca-from=" << o.pca_from.string();
  plan.signature += s.str();
}

ExtractionPlan plan_extraction(const ExtractOptions& o, const stimuli::StimulusSet& set) {
  ExtractionPlan plan;
  plan.model = load_extraction_model(o, set);
  auto& net = *plan.model.net;
  plan.requests = resolve_layers(o.layers, net);
  if (o.passes.back() > 0 && net.pathways().empty())
    throw SettingError("passes", "pass " + std::to_string(o.passes.back()) +
                                     " is beyond the model's: " + plan.model.description +
                                     " has no feedback pathways, so it has pass 0 only");
  plan.conditions = make_conditions(o.steering, o.conditions, net, set.size());
  const auto model_preset = model::preprocess_preset(plan.model);
  plan.preprocess =
      o.preprocessing ? o.preprocessing(model_preset) : stimuli::Preprocess::preset(model_preset);
  plan.record = record_for(plan.requests);
  plan.n_passes = o.passes.back() + 1;
  plan.shared_pass0 = plan.conditions.size() > 1 && !o.steering.first_pass;
  plan.signature = run_signature(o, plan, set);
  plan_reductions(plan, o, set);
  return plan;
}

// The number of MPI ranks that wrote a partial file: its parts record it under /activations, a
// joined file at its root; 1 when neither does.
int ranks_of(const h5::Group& root) {
  const auto parts = root.group(io::activations_group).attr_number("mpi_ranks");
  return static_cast<int>(parts.value_or(root.attr_number("mpi_ranks").value_or(1)));
}

std::string resume_with(int ranks) {
  return ranks > 1 ? "resume it with " + std::to_string(ranks) + " MPI ranks"
                   : "resume it without MPI (one process)";
}

// Checks a partial file left by an interrupted run; returns the rows to continue after.
std::uint64_t resume_point(io::ResultFile& out, const std::string& signature,
                           const Destination& t) {
  auto root = out.root();
  const auto partial = io::ResultFile::partial_path(out.final_path()).string();
  if (!root.has_group(io::activations_group))
    throw SettingError("resume", partial + " holds no activations; run again without resuming");
  auto g = root.group(io::activations_group);
  if (const int ranks = ranks_of(root); ranks != t.ranks)
    throw SettingError("resume", partial + " was written by " + std::to_string(ranks) +
                                     " MPI rank(s); " + resume_with(ranks) +
                                     " or run again without resuming");
  const auto previous = g.attr_string("extract_signature").value_or("");
  if (previous != signature)
    throw SettingError("resume", partial + " was started with other options (" + previous +
                                     "); run again without resuming or with the same options");
  // A part 0 that a stopped join had begun to fill records all rows.
  const auto done = static_cast<std::uint64_t>(g.attr_number("rows_complete").value_or(0));
  return std::clamp(done, t.rows.first, t.rows.end);
}

// The number of ranks recorded in a partial output (1: none, or unreadable).
int ranks_in(const std::filesystem::path& file) {
  try {
    return ranks_of(h5::File(file, h5::File::Mode::read).root());
  } catch (const std::exception&) {
    return 1;
  }
}

// --resume of a run that another number of ranks started (a single process finding the parts of
// an MPI run, or MPI ranks finding the partial output of a single process), and of an MPI run
// whose join stopped, whose <out>.partial becomes part 0 again (rank_parts.hpp).
void check_resumable(const ExtractOptions& o, const Destination& t) {
  namespace fs = std::filesystem;
  const auto partial = io::ResultFile::partial_path(o.out);
  const auto part0 = io::ResultFile::partial_path(part_base(o.out, 0));
  if (!o.resume) return;
  if (t.ranks == 1 && !fs::exists(partial) && fs::exists(part0)) {
    const int ranks = ranks_in(part0);
    throw SettingError("resume", part0.string() + " is the part of rank 0 of an MPI run; " +
                                     (ranks > 1 ? resume_with(ranks) : "resume it with MPI") +
                                     " or run again without resuming");
  }
  if (t.ranks == 1) return;
  if (t.rank == 0 && fs::exists(partial) && !fs::exists(part0)) {
    const int ranks = ranks_in(partial);
    if (ranks != t.ranks)
      throw SettingError("resume", partial.string() + " was written by " + std::to_string(ranks) +
                                       " MPI rank(s); " + resume_with(ranks) +
                                       " or run again without resuming");
    std::error_code ec;
    fs::rename(partial, part0, ec);
    if (ec)
      throw InputError("cannot move " + partial.string() + " to " + part0.string() + ": " +
                       ec.message());
  }
  mpi::barrier();  // no rank looks for its part before part 0 is in place
}

// The output: the partial file of an interrupted run (continued after `start` rows) or a new one.
std::unique_ptr<io::ResultFile> open_output(const ExtractOptions& o, const ExtractionPlan& plan,
                                            const stimuli::StimulusSet& set, const Destination& t,
                                            std::uint64_t& start, ExtractSummary& summary) {
  const auto partial = io::ResultFile::partial_path(t.base);
  start = t.rows.first;
  if (o.resume && std::filesystem::exists(partial)) {
    std::unique_ptr<io::ResultFile> out;
    try {
      out = std::make_unique<io::ResultFile>(io::ResultFile::resume(t.base));
    } catch (const InputError& e) {
      throw SettingError("resume", "cannot reopen " + partial.string() + " (" + e.what() +
                                       "); delete it and run again without resuming");
    }
    start = resume_point(*out, plan.signature, t);
    return out;
  }
  summary.nothing_to_resume = o.resume;
  io::ModelInputs in;
  in.model = plan.model.description;
  in.architecture = plan.model.architecture.to_string();
  in.weights = {o.weights, o.torchscript};
  in.stimuli = o.stimuli;
  in.stimuli_checksum = set.checksum();
  in.extra["steering_source"] = o.steering.source;
  in.extra[io::compute_attr] = model::describe(model::compute());
  auto out = std::make_unique<io::ResultFile>(t.base, io::model_provenance(o.seed, in));
  auto g = out->root().require_group(io::activations_group);
  g.set_attr("extract_signature", plan.signature);
  g.set_attr("batch_size", static_cast<std::int64_t>(o.batch_size));
  if (t.ranks > 1) g.set_attr("mpi_ranks", static_cast<std::int64_t>(t.ranks));
  return out;
}

// A batch's arrays on their way to the host: written once `wait` (device copies) returns.
struct PendingJob {
  WriteJob job;
  std::function<void()> wait;
};

// Writes the jobs it is given on its own thread; its exception is kept for the caller to rethrow
// after join().
class WriterThread {
 public:
  WriterThread(ActivationWriter& writer, BoundedQueue<PendingJob>& jobs)
      : thread_([this, &writer, &jobs] {
          h5::silence_errors_on_this_thread();
          try {
            while (auto pending = jobs.pop()) {
              if (pending->wait) pending->wait();
              writer.write(pending->job);
            }
          } catch (...) {
            jobs.abort();
            error_ = std::current_exception();
          }
        }) {}
  ~WriterThread() { join(); }
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

// The arrays of one batch: every requested layer in every requested pass and condition, on their
// way to the host. Pools reduce on the model's device; the other reductions on the host.
PendingJob compute_batch(ExtractionPlan& plan, const ExtractOptions& o, stimuli::Batch& b,
                         const ActivationWriter& writer, const model::Transfers& transfers) {
  auto& net = *plan.model.net;
  const bool shared = plan.shared_pass0;
  auto x = transfers.to_device(torch::from_blob(b.data.data(), b.shape, torch::kFloat));
  WriteJob job;
  job.first = b.rows.front();
  job.count = b.rows.size();
  job.arrays.resize(writer.dataset_count());
  model::ForwardResult pass0;
  if (shared) pass0 = net.forward(x, 1, nullptr, plan.record);
  for (std::size_t k = 0; k < plan.conditions.size(); ++k) {
    const auto& condition = plan.conditions[k];
    model::Steering steering;
    if (condition.steered()) steering = batch_steering(condition, o.steering, job.first, job.count);
    const auto* s = condition.steered() ? &steering : nullptr;
    auto result = shared && plan.n_passes > 1
                      ? net.forward_from(pass0.state, x, plan.n_passes, s, plan.record)
                  : shared ? pass0
                           : net.forward(x, plan.n_passes, s, plan.record);
    for (std::size_t p = 0; p < o.passes.size(); ++p) {
      const auto& pass = shared && o.passes[p] == 0 ? pass0.passes[0]
                                                    : result.passes[o.passes[p] - (shared ? 1 : 0)];
      for (std::size_t r = 0; r < plan.requests.size(); ++r) {
        auto array = select_output(pass, plan.requests[r]);
        if (plan.reducers.empty()) {
          job.arrays[writer.index(r, p, k)] = array;
          continue;
        }
        const auto& reducer = plan.reducers[r];
        job.arrays[writer.index(r, p, k)] =
            reducer.apply(reducer.positional() ? array : model::to_host(array), p);
      }
    }
  }
  auto copies = transfers.to_host(std::move(job.arrays));
  job.arrays = std::move(copies.host);
  return {std::move(job), std::move(copies.wait)};
}

// Rows [first, end) of `set` in consecutive batches, loaded ahead by the stream's loader thread.
stimuli::BatchStream batches_from(const stimuli::StimulusSet& set, std::size_t first,
                                  std::size_t end, const ExtractionPlan& plan, int batch_size) {
  std::vector<std::size_t> rows(end - first);
  std::iota(rows.begin(), rows.end(), first);
  return {set, stimuli::cut_batches(rows, static_cast<std::size_t>(batch_size)),
          stimuli::stream_options(plan.preprocess)};
}

// Loader → compute (this thread) → writer; queues of one or two batches bound the memory.
void stream(ExtractionPlan& plan, const ExtractOptions& o, const stimuli::StimulusSet& set,
            ActivationWriter& writer, std::uint64_t start, const RowRange& rows) {
  Progress bar("extract", static_cast<std::int64_t>(rows.size()), "images");
  bar.advance(static_cast<std::int64_t>(start - rows.first));
  BoundedQueue<PendingJob> jobs(1);
  WriterThread writing(writer, jobs);
  const model::Transfers transfers(model::device_of(*plan.model.net));
  try {
    torch::NoGradGuard no_grad;
    auto batches = batches_from(set, start, rows.end, plan, o.batch_size);
    // A loader error comes after the batches before it, which are still computed and written.
    while (auto b = batches.next()) {
      check_interrupt();
      if (!jobs.push(compute_batch(plan, o, *b, writer, transfers)))
        break;  // the writer failed; its error is rethrown below
      bar.advance(static_cast<std::int64_t>(b->rows.size()));
    }
  } catch (...) {
    jobs.close();  // batches already computed are still written, so --resume skips them
    writing.join();
    throw;
  }
  jobs.close();
  writing.join();
  writing.rethrow();
  bar.finish();
}

// Fits the pca reductions on the fitting set, unsteered, one fit per layer and extracted pass.
PcaFits fit_pca(ExtractionPlan& plan, const ExtractOptions& o, const std::filesystem::path& base) {
  const auto& set = *o.pca_fit_set;
  const auto n = static_cast<std::int64_t>(set.size());
  struct Target {
    std::size_t request, pass;
    std::unique_ptr<PcaFitter> fitter;
  };
  std::vector<Target> targets;
  for (std::size_t r = 0; r < plan.requests.size(); ++r) {
    const auto& reducer = plan.reducers[r];
    if (reducer.reduction().kind != ReduceKind::pca) continue;
    for (std::size_t p = 0; p < o.passes.size(); ++p) {
      const auto scratch = base.string() + ".pca-scratch-" + std::to_string(targets.size());
      targets.push_back(
          {r, p,
           std::make_unique<PcaFitter>(plan.requests[r].name, o.passes[p], reducer.units(), n,
                                       reducer.reduction().k, scratch)});
    }
  }
  Progress bar("pca fit", n, "images");
  torch::NoGradGuard no_grad;
  auto batches = batches_from(set, 0, set.size(), plan, o.batch_size);
  while (auto b = batches.next()) {
    check_interrupt();
    const auto count = static_cast<std::int64_t>(b->rows.size());
    auto result = plan.model.net->forward(torch::from_blob(b->data.data(), b->shape, torch::kFloat),
                                          plan.n_passes, nullptr, plan.record);
    for (auto& t : targets) {
      const auto& request = plan.requests[t.request];
      auto rows = model::to_host(select_output(result.passes[o.passes[t.pass]], request).flatten(1))
                      .contiguous();
      if (rows.size(1) != plan.reducers[t.request].units())
        throw InputError("the fitting set " + o.pca_fit + " gives layer " + request.name + " " +
                         std::to_string(rows.size(1)) + " units; the extracted set gives " +
                         std::to_string(plan.reducers[t.request].units()) +
                         " (images of another size?)");
      t.fitter->add(rows.data_ptr<float>(), count);
    }
    bar.advance(count);
  }
  bar.finish();
  PcaFits fits;
  for (auto& t : targets) {
    auto fit = std::make_shared<PcaFit>(t.fitter->finish());
    t.fitter.reset();  // frees its scratch file before the next fit's
    fits[{fit->layer, fit->pass}] = std::move(fit);
  }
  return fits;
}

// The pca fits of a fitting run: read back from the partial file of an interrupted run, or fitted
// and stored under /pca of the output before the first batch. Under MPI rank 0 alone (whose part
// becomes the output) reads or fits them and sends them to every rank, so every rank calls this,
// one without rows too (its `out` is null).
void prepare_pca(ExtractionPlan& plan, const ExtractOptions& o, io::ResultFile* out) {
  if (!plan.fit_pca) return;
  PcaFits fits;
  if (mpi::rank() == 0) {
    if (has_pca_fits(out->file())) {
      fits = read_pca_fits(out->file());
    } else {
      fits = fit_pca(plan, o, out->final_path());
      write_pca_fits(out->root(), fits,
                     {o.pca_fit, o.pca_fit_set->checksum(), plan.model.description});
      out->file().flush();
    }
  }
  attach_fits(plan, o, broadcast_pca_fits(fits), o.out);
}

// Computes the target's rows into its file (continuing a partial one); a single process commits it.
void extract_rows(ExtractionPlan& plan, const ExtractOptions& o, const stimuli::StimulusSet& set,
                  const Destination& t, ExtractSummary& summary) {
  std::uint64_t start = 0;
  auto out = open_output(o, plan, set, t, start, summary);
  prepare_pca(plan, o, out.get());
  ActivationWriter writer(out->file(), plan.requests, o.passes, plan.conditions, set,
                          static_cast<std::uint64_t>(o.batch_size), plan.reducers);
  if (start > t.rows.first) writer.reopen(start);
  stream(plan, o, set, writer, start, t.rows);
  if (t.ranks == 1) out->commit();
}

}  // namespace

std::vector<int> parse_passes(const std::string& text, const std::string& setting) {
  std::vector<int> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    out.push_back(io::parse_pass_index(item, setting));
    check_pass_range(out.back(), setting);
  }
  if (out.empty()) throw SettingError(setting, "no passes given");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ExtractSummary run_extraction(const ExtractOptions& o, const stimuli::StimulusSet& set) {
  if (o.batch_size < 1) throw SettingError("batch-size", "must be at least 1");
  if (set.size() == 0) throw InputError("stimulus set " + o.stimuli + " is empty");
  if (o.passes.empty()) throw SettingError("passes", "no passes given");
  check_pass_range(o.passes.back(), "passes");
  ExtractSummary summary;
  // A finished file is left alone by --resume (job scripts may rerun the same command).
  if (o.resume && !std::filesystem::exists(io::ResultFile::partial_path(o.out)) &&
      io::is_complete(o.out)) {
    summary.already_complete = true;
    if (mpi::rank() == 0) remove_parts(o.out);  // left if a join stopped after its rename
    return summary;
  }
  const auto target = destination_of(o, set.size());
  check_resumable(o, target);
  auto plan = plan_extraction(o, set);
  mpi::check_same_everywhere("the extraction's options and inputs", plan.signature);
  summary.ranks = target.ranks;
  if (target.rows.size() > 0)
    extract_rows(plan, o, set, target, summary);
  else
    prepare_pca(plan, o, nullptr);  // receives rank 0's fits with the other ranks
  if (target.ranks == 1) return summary;
  mpi::barrier();  // every part is complete
  if (target.rank == 0)
    summary.join_seconds = join_parts(o.out, target.ranks, set.size(),
                                      static_cast<std::uint64_t>(o.batch_size), plan.signature);
  mpi::barrier();  // the output is in place when any rank returns
  return summary;
}

}  // namespace lrm::extract
