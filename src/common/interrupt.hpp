#pragma once

namespace lrm {

// Installs SIGINT/SIGTERM handlers that set a flag; long loops call check_interrupt() between
// batches so that an interrupted run stops at a batch boundary and never commits its output.
void install_interrupt_handlers();
void check_interrupt();  // throws lrm::Interrupted when a signal arrived

}  // namespace lrm
