#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace lrm {

// A one-line progress bar with rate and ETA. It draws only when stderr is a terminal and the run
// is not quiet, so logs and pipes stay clean.
class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit = "items");
  ~Progress();
  void advance(std::int64_t n = 1);
  void set_note(std::string note);  // e.g. "loss 0.123 acc 97.1%"
  void finish();

  static void set_quiet(bool quiet);
  static bool quiet();  // --quiet: no progress and no notes
  static bool enabled();

 private:
  void draw(bool final_draw);
  std::string label_, unit_, note_;
  std::int64_t total_, done_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool finished_ = false;
};

}  // namespace lrm
