#pragma once
// Centred kernel alignment (Kornblith et al. 2019) between representations of the same stimuli:
// CKA = <HKH, HLH> / (|HKH| |HLH|) with linear (K = X X') or RBF kernels (bandwidth a multiple of
// the median distance), biased, or debiased with the unbiased HSIC estimator (Song et al. 2012, as
// Nguyen et al. 2021 use it). Each representation is reduced to its n x n kernel once, so a map of
// every layer x pass against every other costs one Gram per representation. Against brain responses
// (stimulus x neuroid, repetitions averaged) each layer x pass is scored on the stimuli both share
// by id, in the brain's order.
#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/names.hpp"
#include "io/h5.hpp"
#include "io/neural_responses.hpp"

namespace lrm::compare {

enum class CkaKernel { linear, rbf };
inline const Names<CkaKernel> cka_kernel_names{{"linear", CkaKernel::linear},
                                               {"rbf", CkaKernel::rbf}};

struct CkaOptions {
  CkaKernel kernel = CkaKernel::linear;
  bool debiased = false;
  double rbf_threshold = 1.0;  // RBF sigma^2 = threshold^2 x the median squared distance
};

// The centred kernel of a representation from its Gram (X X' of its rows, any shift of X allowed:
// centring and distances cancel it): H K H, or the debiased form (zero diagonal, U-centred).
Eigen::MatrixXd centred_kernel(const Eigen::MatrixXd& gram, const CkaOptions& options);
// CKA of two centred kernels of the same stimuli (NaN when either is zero).
double cka(const Eigen::MatrixXd& centred_a, const Eigen::MatrixXd& centred_b);
// Every pair of centred kernels: a symmetric matrix with ones on the diagonal.
Eigen::MatrixXd cka_matrix(const std::vector<Eigen::MatrixXd>& centred);

struct CkaRunOptions {
  std::filesystem::path activations;
  std::vector<std::string> layers;
  std::vector<int> passes;
  bool allow_partial = false;
  CkaOptions cka;
  std::int64_t memory = 0;  // bytes for streaming Grams (0: the default budget)
  std::string brain;        // neural responses (as compare encode reads them); empty: none
  io::ResponseOptions response_options;
};
// The Gram of brain responses (stimulus x neuroid, averaged over repetitions) centred per neuroid;
// a stimulus without a response of some neuroid is an InputError naming the source.
Eigen::MatrixXd response_gram(const io::NeuralResponses& responses);
// Writes /cka (the layer x pass by layer x pass map and, with brain responses, /cka/cka_brain, each
// layer x pass against them); returns summary lines.
std::vector<std::string> run_cka(const CkaRunOptions& options, const h5::Group& root);

}  // namespace lrm::compare
