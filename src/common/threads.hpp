#pragma once

namespace lrm {

// Sets the thread count of OpenMP kernels and of OpenBLAS (LibTorch is set by the CLI as well).
void set_threads(int n);
int threads();
int hardware_threads();

}  // namespace lrm
