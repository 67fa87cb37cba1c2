#pragma once
// Simulated recordings for checking encoding analyses end to end: a held-out random
// linear-nonlinear "network" on model features gives each neuroid a firing rate per stimulus,
// and repetitions are Poisson draws. Because the rates are known, so is the true ceiling: the
// reliability of the mean over R repetitions, var_s(rate) / (var_s(rate) + mean_s(rate) / R).
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "compare/features.hpp"

namespace lrm::compare {

struct SimulationOptions {
  int neuroids = 100;
  int repetitions = 10;
  double mean_rate = 5.0;  // mean spike count per presentation
  double gain = 1.0;       // slope of the softplus nonlinearity on the standardised drive
  int features_used = 0;   // a random subset of this many features drives the network (0: all)
  std::uint64_t seed = 0;
};

struct SimulatedRecordings {
  Eigen::MatrixXd rate;                   // stimulus x neuroid
  Eigen::MatrixXd presentations;          // (stimulus * repetition) x neuroid, spike counts
  std::vector<Eigen::Index> stimulus_of;  // stimulus of each presentation
  std::vector<std::int64_t> repetition;   // repetition index of each presentation
  Eigen::VectorXd true_ceiling_per_neuroid;
  double true_ceiling = 0;  // median over neuroids
};

SimulatedRecordings simulate_recordings(const FeatureMatrix& x, const SimulationOptions& options);

}  // namespace lrm::compare
