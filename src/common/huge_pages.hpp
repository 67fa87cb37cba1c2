#pragma once
// Large arrays backed by transparent huge pages where the kernel offers them (THP "madvise"): the
// first touch of fresh memory costs a page fault per 4 KiB page, which on virtual machines costs
// more than the arithmetic of a fast kernel over that memory.
#include <cstddef>
#include <vector>

namespace lrm {

// Advises huge pages for the whole 2 MiB pages inside [begin, begin + bytes); before first touch.
void advise_huge_pages(void* begin, std::size_t bytes);

// Reserves room for n elements, to be filled afterwards, in huge pages.
template <typename T>
void reserve_huge_pages(std::vector<T>& v, std::size_t n) {
  if (v.capacity() >= n) return;
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(T));
}

}  // namespace lrm
