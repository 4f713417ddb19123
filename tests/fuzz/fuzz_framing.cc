// The framer (core/framing.h) on random bytes in random chunks, through both ways in (space() and
// commit(), as the relay reads, and feed()). What comes out is checked against a model: the input
// split at '\n', every line within the cap handed out whole, every longer one reported once as
// oversize with its true size and its first 64 KiB, a last line without '\n' reported at the end.
// Every view must lie in the framer's buffer and be followed there by its '\n'.
//
// Input: 4 bytes of settings (cap, repeat count, chunk seed), then the stream. Repeating the
// stream reaches the buffer's growth and move paths (lines past 512 KiB) from a small input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "check.h"
#include "core/framing.h"

using mcpcell::FrameEvent;
using mcpcell::LineFramer;

namespace {

struct Event {
  FrameEvent::Kind kind;
  std::string bytes;
  size_t size;
  bool operator==(const Event&) const = default;
};

std::vector<Event> model(std::string_view in, size_t cap) {
  std::vector<Event> out;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t nl = in.find('\n', pos);
    size_t stop = nl == std::string_view::npos ? in.size() : nl;
    std::string_view line = in.substr(pos, stop - pos);
    if (line.size() > cap)
      out.push_back({FrameEvent::oversize, std::string(line.substr(0, LineFramer::kOversizePrefix)),
                     line.size()});
    else if (nl != std::string_view::npos)
      out.push_back({FrameEvent::line, std::string(line), line.size()});
    else if (!line.empty())
      out.push_back({FrameEvent::partial_at_eof, std::string(line), line.size()});
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

// A small xorshift: the chunk sizes must come from the input, not from a global generator, so
// that a saved crash reproduces.
struct Chunks {
  uint32_t state;
  size_t next(size_t limit) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    // Mostly small reads, sometimes large ones, as pipes deliver them.
    size_t n = (state & 3) == 0 ? (state >> 2) % (256u << 10) : (state >> 2) % 97;
    return std::min(std::max<size_t>(n, 1), limit);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  static const size_t kCaps[] = {
      0, 1, 2, 7, 64, 1000, 70000, 1u << 20, LineFramer::kDefaultMaxLine};
  size_t cap = kCaps[data[0] % (sizeof kCaps / sizeof kCaps[0])];
  size_t repeat = data[1] < 240 ? 1 : size_t{1} << (data[1] - 240) % 10;  // up to 512 copies
  bool use_feed = data[2] & 1;
  Chunks chunks{static_cast<uint32_t>(data[2] | data[3] << 8) * 2654435761u | 1u};
  std::string_view one(reinterpret_cast<const char*>(data + 4), size - 4);
  std::string in;
  in.reserve(one.size() * repeat);
  for (size_t i = 0; i < repeat; ++i) in.append(one);

  LineFramer framer(cap);
  std::vector<Event> got;
  auto sink = [&](const FrameEvent& e) {
    FUZZ_CHECK(e.kind == FrameEvent::oversize || e.bytes.size() == e.size);
    if (e.kind == FrameEvent::line) {
      FUZZ_CHECK(e.size <= cap);
      // The relay writes a line and its '\n' from the buffer in one go.
      FUZZ_CHECK(framer.holds(e.bytes.data(), e.bytes.size() + 1));
      FUZZ_CHECK(e.bytes.data()[e.bytes.size()] == '\n');
      FUZZ_CHECK(std::memchr(e.bytes.data(), '\n', e.bytes.size()) == nullptr);
    }
    if (e.kind == FrameEvent::oversize) {
      FUZZ_CHECK(e.size > cap && e.bytes.size() == std::min(e.size, LineFramer::kOversizePrefix));
    }
    got.push_back({e.kind, std::string(e.bytes), e.size});
  };

  size_t pos = 0;
  while (pos < in.size()) {
    size_t want = chunks.next(in.size() - pos);
    if (use_feed) {
      framer.feed(std::string_view(in).substr(pos, want), sink);
      pos += want;
      continue;
    }
    LineFramer::Space s = framer.space();
    FUZZ_CHECK(s.size > 0 && s.data != nullptr);
    size_t n = std::min(want, s.size);
    std::memcpy(s.data, in.data() + pos, n);
    pos += n;
    framer.commit(n, sink);
    // Never more than one line plus what a read may add, and never a whole oversize line.
    FUZZ_CHECK(framer.buffered() <= std::max(cap, LineFramer::kOversizePrefix) + s.size);
  }
  framer.finish(sink);
  FUZZ_CHECK(framer.buffered() == 0);

  std::vector<Event> want = model(in, cap);
  if (got != want) {
    std::string g, w;
    for (const auto& e : got) g += std::to_string(e.kind) + ":" + std::to_string(e.size) + " ";
    for (const auto& e : want) w += std::to_string(e.kind) + ":" + std::to_string(e.size) + " ";
    mcpcell::fuzz::fail("framer output differs from the model (kind:size)", g, w);
  }
  return 0;
}
