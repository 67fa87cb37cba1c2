#pragma once
// `lrm train`: the paper's recipe (loss = mean over the trained passes of each pass's
// cross-entropy; SGD with momentum and weight decay; one-cycle learning rate).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "stimuli/batch_stream.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::model {

// One completed epoch (loss and accuracy over the epoch, of the last trained pass).
struct EpochRecord {
  int epoch = 0;  // 1-based
  int epochs = 0;
  int pass = 0;  // the last trained pass
  double loss = 0, accuracy = 0;
};

struct TrainOptions {
  std::string model;    // preset, e.g. mnist-lrm
  std::string stimuli;  // the labelled set's spec, recorded in the checkpoint
  // Preprocessing preset to record; empty or "model": the model's own (mnist or imagenet).
  std::string preprocess;
  // Preprocessing given the preset chosen above (e.g. with size overrides); empty: that preset.
  std::function<stimuli::Preprocess(const std::string& preset)> preprocessing;
  std::int64_t num_classes = 0;  // outputs; 0: one per category of the set
  // Defaults: the embedded MNIST models. Under PyTorch's default init their output hardly depends
  // on the input at first; larger batches or peaks spend a short run on that plateau or leave it
  // by killing the ReLUs.
  int epochs = 8;
  int batch_size = 32;
  int passes = 2;        // passes 0..passes-1 are trained (pass 0 only without pathways)
  double lr = 0.025;     // one-cycle peak
  double warmup = 0.15;  // fraction of steps rising to the peak (from 1e-4·peak)
  double momentum = 0.9;
  double weight_decay = 5e-5;
  double label_smoothing = 0.1;  // as in the released training script
  stimuli::Augmentation augmentation = stimuli::Augmentation::none;
  std::uint64_t seed = 0;
  std::filesystem::path out;  // checkpoint, rewritten after every epoch
  bool resume = false;        // continue from `out` after its last completed epoch
  std::function<void(const EpochRecord&)> on_epoch;  // called after each epoch's checkpoint
};

struct TrainSummary {
  int resumed_after = -1;  // epochs found in the checkpoint on --resume (0: none); -1 otherwise
  int epochs_done = 0;
  int trained_passes = 0;
  std::vector<std::string> classes;  // class names in output order (recorded in the checkpoint)
  double loss = 0, accuracy = 0;     // last epoch, last trained pass
  double seconds = 0;
};

// Trains on every image of `set` (the categories become the classes in training_class_order),
// streamed in batches: memory is bounded by the batches in flight, not by the set.
TrainSummary train(const TrainOptions& options, const stimuli::StimulusSet& set);

}  // namespace lrm::model
