#pragma once
// SHA-256 (FIPS 180-4) for provenance checksums of weights and stimulus files.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace lrm::io {

class Sha256 {
 public:
  Sha256();
  void update(const unsigned char* data, size_t n);
  std::string hex_digest();

 private:
  void block(const unsigned char* p);
  std::array<std::uint32_t, 8> h_;
  std::array<unsigned char, 64> buf_{};
  size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace lrm::io
