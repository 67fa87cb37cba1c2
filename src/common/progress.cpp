#include "common/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace lrm {
namespace {
bool g_quiet = false;

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}
}  // namespace

void Progress::set_quiet(bool quiet) { g_quiet = quiet; }
bool Progress::quiet() { return g_quiet; }
bool Progress::enabled() { return !g_quiet && isatty(STDERR_FILENO); }

Progress::Progress(std::string label, std::int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(std::int64_t n) {
  done_ += n;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::set_note(std::string note) { note_ = std::move(note); }

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final_draw) {
  if (!enabled()) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(done_) / total_ : 0.0;
  const int width = 28;
  const int filled = static_cast<int>(fraction * width);
  std::string bar(filled, '#');
  bar.resize(width, '.');
  const double eta = rate > 0 ? (total_ - done_) / rate : -1;
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %s  %.1f %s/s  %s %s  %s\033[K", label_.c_str(),
               bar.c_str(), static_cast<long long>(done_), static_cast<long long>(total_),
               unit_.c_str(), rate, unit_.c_str(), final_draw ? "took" : "ETA",
               format_duration(final_draw ? elapsed : eta).c_str(), note_.c_str());
  if (final_draw) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace lrm
