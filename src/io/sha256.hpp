#pragma once
// SHA-256 (FIPS 180-4) for provenance checksums of weights, stimulus and activation files. Blocks
// go through the CPU's SHA extensions where it has them (about 10x the portable code, which made
// hashing a 10 GB activation file most of a streamed comparison's start-up).
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
  // Compresses `n` 64-byte blocks into h_.
  void blocks(const unsigned char* p, size_t n);
  std::array<std::uint32_t, 8> h_;
  std::array<unsigned char, 64> buf_{};
  size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace lrm::io
