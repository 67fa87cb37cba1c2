#pragma once

namespace lrm {

// Sets the thread count of OpenMP kernels and of OpenBLAS (LibTorch is set by the CLI as well).
void set_threads(int n);
int threads();
int hardware_threads();
// MPI ranks on this node, from the launcher's environment (OpenMPI, MPICH, MVAPICH); 1 otherwise.
int local_ranks();
// The default thread count: the cores shared among the node's ranks, so that N ranks on one
// machine do not run N x cores threads.
int default_threads();

}  // namespace lrm
