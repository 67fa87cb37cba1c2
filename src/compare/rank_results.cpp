#include "compare/rank_results.hpp"

namespace lrm::compare {

void pack(mpi::Packer& p, const Eigen::MatrixXd& m) {
  p.put(static_cast<std::int64_t>(m.rows())).put(static_cast<std::int64_t>(m.cols()));
  p.put_array(m.data(), static_cast<std::size_t>(m.size()));
}

Eigen::MatrixXd unpack_matrix(mpi::Unpacker& u) {
  const auto rows = u.get<std::int64_t>();
  const auto cols = u.get<std::int64_t>();
  Eigen::MatrixXd m(rows, cols);
  u.get_array<double>([&](std::size_t) { return m.data(); });
  return m;
}

void pack(mpi::Packer& p, const std::vector<std::string>& texts) {
  p.put(static_cast<std::uint64_t>(texts.size()));
  for (const auto& t : texts) p.put(t);
}

std::vector<std::string> unpack_strings(mpi::Unpacker& u) {
  std::vector<std::string> out(u.get<std::uint64_t>());
  for (auto& t : out) t = u.get_string();
  return out;
}

std::string pack(const EncodingBenchmark::Result& result) {
  mpi::Packer p;
  const auto& pr = result.predictivity;
  pack(p, pr.r);
  pack(p, Eigen::MatrixXd(pr.median_per_split));
  p.put(pr.score).put(pr.error).put(pr.undefined_neuroids).put(pr.components_used);
  pack(p, pr.penalty);
  p.put(static_cast<std::uint64_t>(pr.group_penalty.size()));
  for (const auto& g : pr.group_penalty) pack(p, g);
  p.put(result.score);
  return p.bytes();
}

EncodingBenchmark::Result unpack_encoding(const std::string& bytes) {
  mpi::Unpacker u(bytes);
  EncodingBenchmark::Result result;
  auto& pr = result.predictivity;
  pr.r = unpack_matrix(u);
  pr.median_per_split = unpack_matrix(u);
  pr.score = u.get<double>();
  pr.error = u.get<double>();
  pr.undefined_neuroids = u.get<int>();
  pr.components_used = u.get<int>();
  pr.penalty = unpack_matrix(u);
  pr.group_penalty.resize(u.get<std::uint64_t>());
  for (auto& g : pr.group_penalty) g = unpack_matrix(u);
  result.score = u.get<CeiledScore>();
  return result;
}

void pack(mpi::Packer& p, const RdmScore& score) {
  pack(p, Eigen::MatrixXd(score.r));
  p.put(score.mean).put(score.to_mean_rdm).put(score.stimuli).put(score.subjects);
}

RdmScore unpack_rdm_score(mpi::Unpacker& u) {
  RdmScore s;
  s.r = unpack_matrix(u);
  s.mean = u.get<double>();
  s.to_mean_rdm = u.get<double>();
  s.stimuli = u.get<BootstrapInterval>();
  s.subjects = u.get<BootstrapInterval>();
  return s;
}

}  // namespace lrm::compare
