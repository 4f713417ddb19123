// Newline framing for one direction of a stdio MCP stream.
//
// Bytes arrive in arbitrary chunks; messages are lines. The framer hands out each complete line
// (without its '\n') exactly once, in order, and never splits or joins lines. A line longer than
// the cap is not buffered: the framer switches to discard mode, keeps only a prefix (to find a
// request id for the error reply) and reports one `oversize` event when the line ends.
//
// The framer owns the buffer that reads go into (space() + commit()), so a line that takes several
// reads is never copied to be joined, and every line it hands out is a view into that buffer,
// followed there by its '\n'. Those bytes stay where they are until the next space() call: a relay
// that could not write a line at once may keep the view instead of a copy, as long as it does not
// read again meanwhile.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
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
  static constexpr size_t kInitialCap = 1u << 20;  // as much as a full pipe holds
  static constexpr size_t kMinRead = 64u << 10;
  // A buffer that grew for one big line is given back once it is empty again.
  static constexpr size_t kKeepCap = 4u << 20;

  explicit LineFramer(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  // Where the next read goes (never empty). May move or reallocate what is buffered: views handed
  // out before are invalid after this call.
  struct Space {
    char* data;
    size_t size;
  };
  Space space();

  // `n` bytes were read into space(): calls `sink(const FrameEvent&)` for every event they
  // complete.
  template <typename Sink>
  void commit(size_t n, Sink&& sink);

  // Feeds bytes the caller already has (a copy into space() and commit()).
  template <typename Sink>
  void feed(std::string_view chunk, Sink&& sink);

  // The stream ended: reports a partial last line, if any.
  template <typename Sink>
  void finish(Sink&& sink);

  // Whether [p, p + n) lies in the bytes read so far (a line handed out, with its '\n').
  bool holds(const char* p, size_t n) const {
    return buf_ && p >= buf_.get() && n <= end_ && p <= buf_.get() + end_ - n;
  }
  size_t buffered() const { return discarding_ ? prefix_.size() : end_ - begin_; }
  size_t capacity() const { return cap_; }
  size_t max_line() const { return max_line_; }

 private:
  template <typename Sink>
  void end_oversize(Sink&& sink);

  size_t max_line_;
  std::unique_ptr<char[]> buf_;  // allocated on first use; pages are touched only by reads
  size_t cap_ = 0;
  size_t begin_ = 0;  // start of the unfinished line
  size_t end_ = 0;    // end of what was read
  bool discarding_ = false;
  size_t discarded_ = 0;  // bytes of the current oversize line seen so far
  std::string prefix_;    // its first kOversizePrefix bytes
};

inline LineFramer::Space LineFramer::space() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (cap_ > kKeepCap) {
      buf_.reset();
      cap_ = 0;
    }
  }
  if (!buf_) {
    cap_ = kInitialCap;
    buf_.reset(new char[cap_]);  // not zero-filled: untouched pages cost no memory
  }
  size_t unfinished = end_ - begin_;
  if (cap_ - end_ < kMinRead) {
    if (unfinished > cap_ / 2) {
      // Moving a big unfinished line to the front after every read would copy it again and again:
      // grow instead, to twice the line, so that a move frees at least as much as it copies. Not
      // more: every byte of the buffer is touched as reads go round it, so its size is what a
      // relay of big lines keeps resident (a quarter-full rule kept 4 MiB per direction for 1 MiB
      // lines, no faster).
      size_t cap = (2 * unfinished + kMinRead - 1) / kMinRead * kMinRead;
      std::unique_ptr<char[]> bigger(new char[cap]);
      std::memcpy(bigger.get(), buf_.get() + begin_, unfinished);
      buf_ = std::move(bigger);
      cap_ = cap;
    } else {
      std::memmove(buf_.get(), buf_.get() + begin_, unfinished);
    }
    begin_ = 0;
    end_ = unfinished;
  } else if (begin_ > 0 && unfinished <= kMinRead / 4) {
    // A short tail: moving it keeps small traffic in the first pages of the buffer.
    std::memmove(buf_.get(), buf_.get() + begin_, unfinished);
    begin_ = 0;
    end_ = unfinished;
  }
  return {buf_.get() + end_, cap_ - end_};
}

template <typename Sink>
void LineFramer::commit(size_t n, Sink&& sink) {
  size_t scan = end_;  // bytes before this one were searched for '\n' already
  end_ += n;
  char* const b = buf_.get();
  while (scan < end_) {
    auto* nl = static_cast<char*>(std::memchr(b + scan, '\n', end_ - scan));
    size_t stop = nl != nullptr ? static_cast<size_t>(nl - b) : end_;
    if (discarding_) {
      size_t piece = stop - begin_;
      discarded_ += piece;
      if (prefix_.size() < kOversizePrefix)
        prefix_.append(b + begin_, std::min(piece, kOversizePrefix - prefix_.size()));
      if (nl == nullptr) {
        begin_ = end_;  // nothing of an oversize line is kept but the prefix
        return;
      }
      end_oversize(sink);
    } else if (stop - begin_ > max_line_) {
      discarding_ = true;
      discarded_ = stop - begin_;
      prefix_.assign(b + begin_, std::min(stop - begin_, kOversizePrefix));
      if (nl == nullptr) {
        begin_ = end_;
        return;
      }
      end_oversize(sink);
    } else if (nl == nullptr) {
      return;  // the line goes on in the next read
    } else {
      sink(
          FrameEvent{FrameEvent::line, std::string_view(b + begin_, stop - begin_), stop - begin_});
    }
    begin_ = stop + 1;
    scan = begin_;
  }
}

template <typename Sink>
void LineFramer::end_oversize(Sink&& sink) {
  sink(FrameEvent{FrameEvent::oversize, prefix_, discarded_});
  prefix_.clear();
  prefix_.shrink_to_fit();
  discarding_ = false;
  discarded_ = 0;
}

template <typename Sink>
void LineFramer::feed(std::string_view chunk, Sink&& sink) {
  while (!chunk.empty()) {
    Space s = space();
    size_t n = std::min(s.size, chunk.size());
    std::memcpy(s.data, chunk.data(), n);
    chunk.remove_prefix(n);
    commit(n, sink);
  }
}

template <typename Sink>
void LineFramer::finish(Sink&& sink) {
  if (discarding_) {
    end_oversize(sink);
  } else if (end_ > begin_) {
    sink(FrameEvent{FrameEvent::partial_at_eof,
                    std::string_view(buf_.get() + begin_, end_ - begin_), end_ - begin_});
  }
  begin_ = end_ = 0;
}

}  // namespace mcpcell
