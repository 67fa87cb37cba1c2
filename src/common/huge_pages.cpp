#include "common/huge_pages.hpp"

#include <sys/mman.h>

namespace lrm {

void* allocate_huge_pages(std::size_t bytes) {
  constexpr std::size_t huge = std::size_t{2} << 20;
  void* p;
  if (bytes < (std::size_t{1} << 20)) {
    p = std::malloc(bytes == 0 ? 1 : bytes);
  } else {
    const std::size_t rounded = (bytes + huge - 1) / huge * huge;
    p = std::aligned_alloc(huge, rounded);
#ifdef MADV_HUGEPAGE
    if (p) madvise(p, rounded, MADV_HUGEPAGE);
#endif
  }
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace lrm
