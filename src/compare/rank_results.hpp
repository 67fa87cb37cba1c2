#pragma once
// The per-model results of `lrm compare encode` and `lrm compare rsa` as bytes, so that MPI ranks
// can score their share of the layers and passes and rank 0 write them all (mpi::compute_shared).
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "common/mpi.hpp"
#include "compare/encoding.hpp"
#include "compare/rsa.hpp"

namespace lrm::compare {

void pack(mpi::Packer& p, const Eigen::MatrixXd& m);
Eigen::MatrixXd unpack_matrix(mpi::Unpacker& u);
void pack(mpi::Packer& p, const std::vector<std::string>& texts);
std::vector<std::string> unpack_strings(mpi::Unpacker& u);

std::string pack(const EncodingBenchmark::Result& result);
EncodingBenchmark::Result unpack_encoding(const std::string& bytes);

void pack(mpi::Packer& p, const RdmScore& score);
RdmScore unpack_rdm_score(mpi::Unpacker& u);

}  // namespace lrm::compare
