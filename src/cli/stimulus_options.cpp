#include "cli/stimulus_options.hpp"

#include <cstdio>

#include "cli/option_checks.hpp"
#include "common/progress.hpp"
#include "stimuli/file_sets.hpp"

namespace lrm::cli {

std::unique_ptr<stimuli::StimulusSet> StimulusOptions::open() const {
  stimuli::OpenOptions o;
  o.category_map = stimuli::parse_category_map(category_map);
  o.skip_bad = skip_bad;
  o.split = split;
  o.categories = categories;
  o.indices = indices;
  auto set = stimuli::open_stimulus_set(spec, o);
  if (!Progress::quiet())
    for (const auto& s : set->skipped()) std::fprintf(stderr, "lrm: note: skipped %s\n", s.c_str());
  return set;
}

stimuli::Preprocess StimulusOptions::preprocessing() const {
  auto p = stimuli::Preprocess::preset(preprocess);
  if (resize >= 0) p.resize = resize;
  if (crop >= 0) p.crop = crop;
  if (!mean.empty()) p.mean = mean;
  if (!std.empty()) p.std = std;
  return p;
}

std::function<stimuli::Preprocess(const std::string&)> StimulusOptions::for_model() const {
  return [options = *this](const std::string& model_preset) {
    auto s = options;
    if (s.preprocess.empty() || s.preprocess == "model") s.preprocess = model_preset;
    return s.preprocessing();
  };
}

void add_stimulus_options(CLI::App* cmd, StimulusOptions& o, bool required,
                          const std::string& default_preset) {
  o.preprocess = default_preset;
  auto* s = cmd->add_option("--stimuli", o.spec,
                            "Stimulus set: folder of category folders (fLoc layout), .csv manifest "
                            "(path,category[,id,...]), file.h5 (suite layout) or file.h5:/dataset "
                            "(float32 N×C×H×W tensors are taken as preprocessed)");
  if (required) s->required();
  cmd->add_option("--category-map", o.category_map,
                  "Subcategory folders to categories: 'floc' or 'adult=faces,child=faces'");
  cmd->add_flag("--skip-bad", o.skip_bad,
                "Skip (and list) corrupt or non-image files instead of failing");
  cmd->add_option("--split", o.split, "Only stimuli of this split (HDF5 sets: train or test)");
  cmd->add_option("--categories", o.categories, "Only stimuli of these categories")->delimiter(',');
  cmd->add_option("--indices", o.indices,
                  "File of stimuli to take, one a line, in its order: stimulus ids, or row numbers "
                  "(from 0; e.g. of an HDF5 brick such as nsd_stimuli.hdf5:/imgBrick)");
  cmd->add_option("--preprocess", o.preprocess,
                  "Preprocessing preset: imagenet, imagenet-composite, mnist, none, or model (the "
                  "model's own)")
      ->capture_default_str();
  cmd->add_option("--resize", o.resize,
                  "Resize the short side to this (0: keep; default: the preset's)")
      ->check(CLI::Range(0, 8192));
  cmd->add_option("--crop", o.crop, "Centre crop to this square (0: none; default: the preset's)")
      ->check(CLI::Range(0, 8192));
  cmd->add_option("--mean", o.mean, "Normalisation mean per channel (default: the preset's)")
      ->delimiter(',')
      ->check(finite_in(-std::numeric_limits<double>::max()));
  cmd->add_option("--std", o.std, "Normalisation std per channel (default: the preset's)")
      ->delimiter(',')
      ->check(finite_positive());
}

}  // namespace lrm::cli
