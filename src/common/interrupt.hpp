#pragma once

namespace lrm {

// Installs SIGINT/SIGTERM handlers that set a flag; long loops call check_interrupt() between
// batches so that an interrupted run stops at a batch boundary and never commits its output.
void install_interrupt_handlers();
void check_interrupt();  // throws lrm::Interrupted when a signal arrived
// For hosts that handle signals themselves (the Python module polls Python's own handler): raise
// and clear the flag that check_interrupt() reads.
void request_interrupt();
void clear_interrupt();

}  // namespace lrm
