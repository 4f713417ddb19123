// Newline framing for one direction of a stdio MCP stream.
//
// Bytes arrive in arbitrary chunks; messages are lines. The framer hands out each complete line
// (without its '\n') exactly once, in order, and never splits or joins lines. A line longer than the
// cap is not buffered: the framer switches to discard mode, keeps only a prefix (to find a request id
// for the error reply) and reports one `oversize` event when the line ends. Lines that sit wholly in
// one chunk are passed as views into that chunk, so the common case copies nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mcpcell {

struct FrameEvent {
  enum Kind { line, oversize, partial_at_eof };
  Kind kind;
  std::string_view bytes;  // line: the line; oversize: a prefix of it; partial: what arrived
  size_t size;             // the full size of the line in bytes (without '\n')
};

class LineFramer {
 public:
  static constexpr size_t kDefaultMaxLine = 16u << 20;  // 16 MiB (reference/protocol.md A10)
  static constexpr size_t kOversizePrefix = 64u << 10;

  explicit LineFramer(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  // Feeds a chunk; calls `sink(const FrameEvent&)` for every event it completes. Views passed to the
  // sink are valid only during the call.
  template <typename Sink>
  void feed(std::string_view chunk, Sink&& sink);

  // The stream ended: reports a partial last line, if any.
  template <typename Sink>
  void finish(Sink&& sink);

  size_t buffered() const { return buf_.size(); }
  size_t max_line() const { return max_line_; }

 private:
  size_t max_line_;
  std::string buf_;         // the unfinished line, or the kept prefix while discarding
  bool discarding_ = false;
  size_t discarded_ = 0;    // bytes of the current oversize line seen so far
};

template <typename Sink>
void LineFramer::feed(std::string_view chunk, Sink&& sink) {
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    std::string_view piece = nl == std::string_view::npos ? chunk : chunk.substr(0, nl);
    bool complete = nl != std::string_view::npos;
    chunk = complete ? chunk.substr(nl + 1) : std::string_view();

    if (discarding_) {
      discarded_ += piece.size();
      if (buf_.size() < kOversizePrefix)
        buf_.append(piece.substr(0, std::min(piece.size(), kOversizePrefix - buf_.size())));
      if (complete) {
        sink(FrameEvent{FrameEvent::oversize, buf_, discarded_});
        buf_.clear();
        discarding_ = false;
        discarded_ = 0;
      }
      continue;
    }
    if (buf_.size() + piece.size() > max_line_) {
      discarding_ = true;
      discarded_ = buf_.size() + piece.size();
      if (buf_.size() > kOversizePrefix) buf_.resize(kOversizePrefix);
      if (buf_.size() < kOversizePrefix)
        buf_.append(piece.substr(0, std::min(piece.size(), kOversizePrefix - buf_.size())));
      if (complete) {
        sink(FrameEvent{FrameEvent::oversize, buf_, discarded_});
        buf_.clear();
        discarding_ = false;
        discarded_ = 0;
      }
      continue;
    }
    if (!complete) {
      buf_.append(piece);
      continue;
    }
    if (buf_.empty()) {
      sink(FrameEvent{FrameEvent::line, piece, piece.size()});  // zero-copy path
    } else {
      buf_.append(piece);
      sink(FrameEvent{FrameEvent::line, buf_, buf_.size()});
      buf_.clear();
    }
  }
}

template <typename Sink>
void LineFramer::finish(Sink&& sink) {
  if (discarding_) {
    sink(FrameEvent{FrameEvent::oversize, buf_, discarded_});
  } else if (!buf_.empty()) {
    sink(FrameEvent{FrameEvent::partial_at_eof, buf_, buf_.size()});
  }
  buf_.clear();
  discarding_ = false;
  discarded_ = 0;
}

}  // namespace mcpcell
