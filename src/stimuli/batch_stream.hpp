#pragma once
// Batches of a stimulus set loaded ahead by a loader thread, so that memory is bounded by the
// batches in flight and not by the set (as `lrm extract` streams its contiguous batches), for any
// order of rows (a seeded shuffle for training) and with optional augmentation. The values do not
// depend on thread timing: each batch is built from its rows and its position alone.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/names.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::stimuli {

// Training-time augmentation. imagenet: torchvision's ImageNet training recipe, RandomResizedCrop
// (scale 0.08–1, aspect ratio 3/4–4/3, to the preprocessing's crop size) and RandomHorizontalFlip
// (p = 1/2) in place of resize and centre crop, then channels and normalisation.
enum class Augmentation { none, imagenet };
inline const Names<Augmentation> augmentation_names{{"none", Augmentation::none},
                                                    {"imagenet", Augmentation::imagenet}};

// Random draws from a 64-bit seed (splitmix64): the same on every platform and library.
class Draws {
 public:
  explicit Draws(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform(double lo, double hi);                    // in [lo, hi)
  std::int64_t integer(std::int64_t lo, std::int64_t hi);  // in [lo, hi)

 private:
  std::uint64_t state_;
};

// A seed for the draws at position (a, b) of a run seeded with `seed` (e.g. epoch, image).
std::uint64_t draw_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b);

// torchvision's RandomResizedCrop(size) then RandomHorizontalFlip() on an image in [0, 1].
Image random_resized_crop_flip(const Image& in, int size, Draws& draws);

// The image a model gets: preprocess(in, p), or with augmentation the random crop and flip drawn
// from `seed` (to p's crop size, else its resize, else the image's own size), then channels and
// normalisation.
Image prepare_image(const Image& in, const Preprocess& p, Augmentation a, std::uint64_t seed);

struct Batch {
  std::size_t index = 0;          // position in the stream
  std::vector<std::size_t> rows;  // rows of the set, in batch order
  std::vector<float> data;        // N×C×H×W
  std::vector<std::int64_t> shape;
};

// `order` (rows of a set) cut into consecutive batches of `batch_size`.
std::vector<std::vector<std::size_t>> cut_batches(const std::vector<std::size_t>& order,
                                                  std::size_t batch_size);
// Rows 0..n-1 in order, cut into batches.
std::vector<std::vector<std::size_t>> sequential_batches(std::size_t n, std::size_t batch_size);

struct StreamOptions {
  Preprocess preprocess;
  Augmentation augmentation = Augmentation::none;
  std::uint64_t seed = 0;  // image k of batch b draws its augmentation from draw_seed(seed, b, k)
  std::size_t ahead = 2;   // batches loaded ahead of the consumer
  // Raw images one read of an HDF5 set may hold. Rows of an HDF5 set are read in sorted runs over
  // several batches at once, since one row alone costs the decompression of its whole chunk.
  std::size_t read_bytes = std::size_t{4} << 20;
};

// Options of a stream of the images a model gets: preprocessed with `p`, augmented with `a` from
// draws seeded by `seed` (Augmentation::none: as inference sees them), with the default read-ahead.
StreamOptions stream_options(const Preprocess& p, Augmentation a = Augmentation::none,
                             std::uint64_t seed = 0);

class BatchStream {
 public:
  BatchStream(const StimulusSet& set, std::vector<std::vector<std::size_t>> batches,
              StreamOptions options);
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;
  // The next batch; empty after the last. The loader's error is rethrown once the batches before
  // it are taken.
  std::optional<Batch> next();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lrm::stimuli
