#pragma once
// Large arrays backed by transparent huge pages where the kernel offers them (THP "madvise"): the
// first touch of fresh memory costs a page fault per 4 KiB page, which on virtual machines costs
// more than the arithmetic of a fast kernel over that memory.
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace lrm {

// Memory for `bytes`, released with std::free. From 1 MiB up it spans whole, aligned 2 MiB pages
// advised as huge pages: malloc's large blocks are not aligned, and the 4 KiB pages at their ends
// alone cost hundreds of faults.
void* allocate_huge_pages(std::size_t bytes);

// Vectors in that memory. Elements that resize adds are left uninitialized (default-initialized):
// the arrays are always overwritten, and zeroing would first touch every page on one thread.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_huge_pages(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0)
      ::new (static_cast<void*>(p)) U;
    else
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <typename T, typename U>
bool operator==(const HugePageAllocator<T>&, const HugePageAllocator<U>&) {
  return true;
}
template <typename T, typename U>
bool operator!=(const HugePageAllocator<T>&, const HugePageAllocator<U>&) {
  return false;
}

template <typename T>
using HugePageVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace lrm
