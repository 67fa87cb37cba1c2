#include "stimuli/batch_stream.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>
#include <thread>

#include "common/bounded_queue.hpp"
#include "common/error.hpp"
#include "io/h5.hpp"
#include "stimuli/h5_set.hpp"

namespace lrm::stimuli {

std::uint64_t Draws::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Draws::uniform(double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
}

std::int64_t Draws::integer(std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo));
}

std::uint64_t draw_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  Draws first(seed);
  Draws second(first.next() ^ a);
  return Draws(second.next() ^ b).next();
}

namespace {

Image crop(const Image& in, int top, int left, int height, int width) {
  Image out;
  out.channels = in.channels;
  out.height = height;
  out.width = width;
  out.data.resize(static_cast<std::size_t>(in.channels) * height * width);
  for (int c = 0; c < in.channels; ++c)
    for (int y = 0; y < height; ++y)
      std::copy_n(&in.data[(static_cast<std::size_t>(c) * in.height + top + y) * in.width + left],
                  width, &out.at(c, y, 0));
  return out;
}

void flip_horizontally(Image& img) {
  for (int c = 0; c < img.channels; ++c)
    for (int y = 0; y < img.height; ++y) {
      float* row = &img.at(c, y, 0);
      std::reverse(row, row + img.width);
    }
}

}  // namespace

Image random_resized_crop_flip(const Image& in, int size, Draws& draws) {
  // torchvision's RandomResizedCrop.get_params: ten tries at a random area and aspect ratio, else
  // the whole image clipped to the ratio range.
  const int H = in.height, W = in.width;
  const double area = static_cast<double>(H) * W;
  const double lo = std::log(3.0 / 4.0), hi = std::log(4.0 / 3.0);
  int top = -1, left = 0, h = H, w = W;
  for (int attempt = 0; attempt < 10 && top < 0; ++attempt) {
    const double target = area * draws.uniform(0.08, 1.0);
    const double ratio = std::exp(draws.uniform(lo, hi));
    const int cw = static_cast<int>(std::nearbyint(std::sqrt(target * ratio)));
    const int ch = static_cast<int>(std::nearbyint(std::sqrt(target / ratio)));
    if (cw <= 0 || cw > W || ch <= 0 || ch > H) continue;
    h = ch;
    w = cw;
    top = static_cast<int>(draws.integer(0, H - h + 1));
    left = static_cast<int>(draws.integer(0, W - w + 1));
  }
  if (top < 0) {
    const double in_ratio = static_cast<double>(W) / H;
    if (in_ratio < 3.0 / 4.0) h = static_cast<int>(std::nearbyint(W / (3.0 / 4.0)));
    if (in_ratio > 4.0 / 3.0) w = static_cast<int>(std::nearbyint(H * (4.0 / 3.0)));
    top = (H - h) / 2;
    left = (W - w) / 2;
  }
  Image out = resize(crop(in, top, left, h, w), size > 0 ? size : H, size > 0 ? size : W);
  if (draws.uniform(0, 1) < 0.5) flip_horizontally(out);
  return out;
}

Image prepare_image(const Image& in, const Preprocess& p, Augmentation a, std::uint64_t seed) {
  if (a == Augmentation::none) return preprocess(in, p);
  Draws draws(seed);
  Preprocess rest = p;
  rest.resize = 0;
  rest.crop = 0;
  return preprocess(random_resized_crop_flip(in, p.crop > 0 ? p.crop : p.resize, draws), rest);
}

std::vector<std::vector<std::size_t>> cut_batches(const std::vector<std::size_t>& order,
                                                  std::size_t batch_size) {
  if (batch_size < 1) throw SettingError("batch-size", "must be at least 1");
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t first = 0; first < order.size(); first += batch_size)
    out.emplace_back(order.begin() + first,
                     order.begin() + std::min(order.size(), first + batch_size));
  return out;
}

std::vector<std::vector<std::size_t>> sequential_batches(std::size_t n, std::size_t batch_size) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  return cut_batches(order, batch_size);
}

StreamOptions stream_options(const Preprocess& p, Augmentation a, std::uint64_t seed) {
  StreamOptions o;
  o.preprocess = p;
  o.augmentation = a;
  o.seed = seed;
  return o;
}

namespace {

// Reads the raw images (values in [0, 1], or a preprocessed set's tensors) of any rows of a set.
class RawReader {
 public:
  RawReader(const StimulusSet& set, std::size_t read_bytes) : set_(set) {
    if (!dynamic_cast<const H5StimulusSet*>(&set)) return;
    const Image sample = set.load(0);
    const std::size_t bytes = std::max<std::size_t>(1, sample.data.size() * sizeof(float));
    as_read_.resize = 0;
    as_read_.crop = 0;
    as_read_.channels = sample.channels;
    as_read_.mean.assign(sample.channels, 0.0f);
    as_read_.std.assign(sample.channels, 1.0f);
    // Reading rows up to 4 MB past the last wanted one costs about what a chunk's decompression
    // does, so nearer rows are read in the same run.
    gap_rows_ = std::max<std::size_t>(1, (std::size_t{4} << 20) / bytes);
    run_rows_ = std::max<std::size_t>(1, read_bytes / bytes);
  }

  // Rows read together across batches (0: one batch at a time).
  std::size_t window_rows() const { return run_rows_; }

  std::vector<Image> read(const std::vector<std::size_t>& rows) const {
    return run_rows_ > 0 ? read_runs(rows) : read_each(rows);
  }

 private:
  // Image files: one decode per row, in parallel.
  std::vector<Image> read_each(const std::vector<std::size_t>& rows) const {
    std::vector<Image> images(rows.size());
    std::string error;
#pragma omp parallel for schedule(dynamic)
    for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(rows.size()); ++k) {
      try {
        images[k] = set_.load(rows[k]);
      } catch (const std::exception& e) {
#pragma omp critical
        error = e.what();
      }
    }
    if (!error.empty()) throw InputError(error);
    return images;
  }

  // HDF5: the wanted rows in sorted runs of contiguous rows.
  std::vector<Image> read_runs(const std::vector<std::size_t>& rows) const {
    std::vector<std::size_t> by_row(rows.size());
    std::iota(by_row.begin(), by_row.end(), 0);
    std::sort(by_row.begin(), by_row.end(), [&](auto a, auto b) { return rows[a] < rows[b]; });
    std::vector<Image> images(rows.size());
    for (std::size_t k = 0; k < by_row.size();) {
      const std::size_t first = rows[by_row[k]];
      std::size_t end = k + 1;
      while (end < by_row.size() && rows[by_row[end]] - rows[by_row[end - 1]] <= gap_rows_ &&
             rows[by_row[end]] - first < run_rows_)
        ++end;
      const std::size_t count = rows[by_row[end - 1]] - first + 1;
      std::vector<std::int64_t> shape;
      const auto values = set_.load_batch(first, count, as_read_, shape);
      const std::size_t size = values.size() / count;
      for (; k < end; ++k) {
        Image& img = images[by_row[k]];
        img.channels = static_cast<int>(shape[1]);
        img.height = static_cast<int>(shape[2]);
        img.width = static_cast<int>(shape[3]);
        const auto at = values.begin() + (rows[by_row[k]] - first) * size;
        img.data.assign(at, at + size);
      }
    }
    return images;
  }

  const StimulusSet& set_;
  Preprocess as_read_;
  std::size_t gap_rows_ = 0, run_rows_ = 0;
};

std::string size_text(const Image& img) {
  return std::to_string(img.channels) + "x" + std::to_string(img.height) + "x" +
         std::to_string(img.width);
}

// The batch of `raw` images (of `rows`) ready for a model, contiguous N×C×H×W.
Batch make_batch(const StimulusSet& set, std::size_t index, std::vector<std::size_t> rows,
                 std::vector<Image> raw, const StreamOptions& o) {
  const auto n = static_cast<std::ptrdiff_t>(rows.size());
  std::string error;
  if (!set.preprocessed()) {
#pragma omp parallel for schedule(dynamic)
    for (std::ptrdiff_t k = 0; k < n; ++k) {
      try {
        raw[k] = prepare_image(raw[k], o.preprocess, o.augmentation, draw_seed(o.seed, index, k));
      } catch (const std::exception& e) {
#pragma omp critical
        error = set.ids()[rows[k]] + ": " + e.what();
      }
    }
  }
  if (!error.empty()) throw InputError(error);
  Batch b;
  b.index = index;
  const Image& front = raw.front();
  b.shape = {n, front.channels, front.height, front.width};
  b.data.reserve(rows.size() * front.data.size());
  for (std::ptrdiff_t k = 0; k < n; ++k) {
    if (raw[k].channels != front.channels || raw[k].height != front.height ||
        raw[k].width != front.width)
      throw InputError("stimulus " + set.ids()[rows[k]] + " has size " + size_text(raw[k]) +
                       " after preprocessing, but " + set.ids()[rows[0]] + " has " +
                       size_text(front) + " (set --resize/--crop)");
    b.data.insert(b.data.end(), raw[k].data.begin(), raw[k].data.end());
  }
  b.rows = std::move(rows);
  return b;
}

}  // namespace

struct BatchStream::State {
  State(const StimulusSet& s, std::vector<std::vector<std::size_t>> b, StreamOptions o)
      : set(s),
        batches(std::move(b)),
        options(std::move(o)),
        queue(std::max<std::size_t>(1, options.ahead)) {}
  void load() {
    RawReader reader(set, options.read_bytes);
    for (std::size_t first = 0; first < batches.size();) {
      // A window of consecutive batches whose rows are read together.
      std::vector<std::size_t> rows = batches[first];
      std::size_t end = first + 1;
      for (; end < batches.size() && rows.size() + batches[end].size() <= reader.window_rows();
           ++end)
        rows.insert(rows.end(), batches[end].begin(), batches[end].end());
      auto raw = reader.read(rows);
      std::size_t at = 0;
      for (std::size_t i = first; i < end; ++i) {
        std::vector<Image> own(std::make_move_iterator(raw.begin() + at),
                               std::make_move_iterator(raw.begin() + at + batches[i].size()));
        at += batches[i].size();
        if (!queue.push(make_batch(set, i, std::move(batches[i]), std::move(own), options))) return;
      }
      first = end;
    }
  }

  const StimulusSet& set;
  std::vector<std::vector<std::size_t>> batches;
  StreamOptions options;
  BoundedQueue<Batch> queue;
  std::exception_ptr error;
  std::thread loader;
};

BatchStream::BatchStream(const StimulusSet& set, std::vector<std::vector<std::size_t>> batches,
                         StreamOptions options)
    : state_(std::make_unique<State>(set, std::move(batches), std::move(options))) {
  if (state_->options.augmentation != Augmentation::none && set.preprocessed())
    throw SettingError("augment", "stimulus set " + set.source() +
                                      " holds preprocessed tensors, which cannot be augmented");
  State* s = state_.get();
  s->loader = std::thread([s] {
    h5::silence_errors_on_this_thread();
    try {
      s->load();
    } catch (...) {
      s->error = std::current_exception();
    }
    s->queue.close();
  });
}

BatchStream::~BatchStream() {
  state_->queue.abort();
  if (state_->loader.joinable()) state_->loader.join();
}

std::optional<Batch> BatchStream::next() {
  auto b = state_->queue.pop();
  if (!b) {
    if (state_->loader.joinable()) state_->loader.join();
    if (state_->error) std::rethrow_exception(state_->error);
  }
  return b;
}

}  // namespace lrm::stimuli
