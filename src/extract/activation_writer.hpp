#pragma once
// Writes extraction batches into /activations: one group per requested layer with stimulus and
// unit coordinates, one row-appendable dataset per pass (and per steering condition), and the
// resume point `rows_complete`, advanced only after a batch is written and flushed.
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "extract/layers.hpp"
#include "extract/reduce.hpp"
#include "extract/steering_conditions.hpp"
#include "io/direct_chunks.hpp"
#include "io/h5.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::extract {

// One batch's arrays, in dataset order (request-major, then pass, then condition), each B×C×H×W
// or B×C as the model gave them, or as a reduction left them (flattened to units when written).
struct WriteJob {
  std::size_t first = 0, count = 0;
  std::vector<torch::Tensor> arrays;
};

class ActivationWriter {
 public:
  ActivationWriter(h5::File& file, std::vector<LayerRequest> requests, std::vector<int> passes,
                   std::vector<Condition> conditions, const stimuli::StimulusSet& set,
                   std::uint64_t batch_rows, std::vector<Reducer> reducers = {});
  std::size_t dataset_count() const {
    return requests_.size() * passes_.size() * conditions_.size();
  }
  // Index of the dataset for (request, pass position, condition) in WriteJob.arrays.
  std::size_t index(std::size_t request, std::size_t pass, std::size_t condition) const;
  // Creates groups, coordinates and datasets, sized from the first batch's arrays; rows before
  // the batch's first are left unwritten.
  void create(const WriteJob& first);
  // Reopens the datasets of an interrupted run, continuing after `rows` rows.
  void reopen(std::uint64_t rows);
  bool ready() const { return !writers_.empty(); }
  // Appends the batch to every dataset, flushes the file, then records the batch as complete.
  // Chunks are encoded on all threads (lrm::threads()) and written on this one.
  void write(const WriteJob& job);

 private:
  std::string dataset_name(std::size_t pass, std::size_t condition) const;
  // Writes the layer group's unit coordinates; returns the auxiliary ones arrays list.
  std::vector<std::string> write_units(const h5::Group& g, std::size_t request,
                                       const std::vector<std::int64_t>& sizes) const;
  void open_direct();
  h5::File& file_;
  h5::Group activations_;
  std::vector<LayerRequest> requests_;
  std::vector<int> passes_;
  std::vector<Condition> conditions_;
  const stimuli::StimulusSet& set_;
  std::uint64_t batch_rows_;
  std::vector<Reducer> reducers_;  // per request; empty: none
  std::vector<h5::RowWriter<float>> writers_;
  std::vector<std::optional<h5::DirectRows>> direct_;  // per dataset, where chunks align
};

}  // namespace lrm::extract
