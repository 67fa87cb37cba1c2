#pragma once
// `lrm train`: the paper's recipe (loss = mean over the trained passes of each pass's
// cross-entropy; SGD with momentum and weight decay; one-cycle learning rate).
#include <cstdint>
#include <filesystem>
#include <string>

namespace lrm::model {

struct TrainOptions {
  std::string model;    // preset, e.g. mnist-lrm
  std::string stimuli;  // labelled set, e.g. stimuli/mnist.h5
  std::string split = "train";
  std::string preprocess;  // default: the model's own (mnist or imagenet)
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
  std::uint64_t seed = 0;
  std::filesystem::path out;  // checkpoint, rewritten after every epoch
  bool resume = false;        // continue from `out` after its last completed epoch
};

struct TrainSummary {
  int epochs_done = 0;
  double loss = 0, accuracy = 0;  // last epoch, last trained pass
  double seconds = 0;
};

TrainSummary train(const TrainOptions& options);

}  // namespace lrm::model
