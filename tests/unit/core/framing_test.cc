// The framer must hand out exactly the lines that were written, however the bytes were chunked,
// and must never let an oversize line through in part. These tests feed the same streams in many
// chunkings and compare with the lines a reader would see.
#include "core/framing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/jsonrpc.h"

namespace mcpcell {
namespace {

struct Event {
  FrameEvent::Kind kind;
  std::string bytes;
  size_t size;
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{" << e.kind << ", " << e.bytes.substr(0, 40) << (e.bytes.size() > 40 ? "..." : "")
            << " (" << e.bytes.size() << "), " << e.size << "}";
}

class Collector {
 public:
  explicit Collector(size_t max_line = LineFramer::kDefaultMaxLine) : framer_(max_line) {}
  void feed(std::string_view chunk) {
    framer_.feed(chunk, [&](const FrameEvent& e) {
      events.push_back({e.kind, std::string(e.bytes), e.size});
    });
  }
  void finish() {
    framer_.finish([&](const FrameEvent& e) {
      events.push_back({e.kind, std::string(e.bytes), e.size});
    });
  }
  LineFramer framer_;
  std::vector<Event> events;
};

Event line(std::string s) {
  return {FrameEvent::line, s, s.size()};
}

// Feeds `stream` cut at the given chunk sizes (cycled) and returns the events.
std::vector<Event> frame_in_chunks(std::string_view stream, const std::vector<size_t>& sizes,
                                   size_t max_line = LineFramer::kDefaultMaxLine) {
  Collector c(max_line);
  size_t i = 0, k = 0;
  while (i < stream.size()) {
    size_t n = std::min(sizes[k++ % sizes.size()], stream.size() - i);
    c.feed(stream.substr(i, n));
    i += n;
  }
  c.finish();
  return c.events;
}

TEST(Framing, OneMessageSplitAcrossManyReads) {
  std::string msg = R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}})";
  std::vector<Event> want = {line(msg)};
  for (size_t chunk = 1; chunk <= msg.size() + 1; ++chunk)
    EXPECT_EQ(frame_in_chunks(msg + "\n", {chunk}), want) << "chunk size " << chunk;
}

TEST(Framing, ManyMessagesInOneRead) {
  std::string stream;
  std::vector<Event> want;
  for (int i = 0; i < 1000; ++i) {
    std::string m = R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"n":)" +
                    std::to_string(i) + "}}";
    stream += m + "\n";
    want.push_back(line(m));
  }
  Collector c;
  c.feed(stream);
  c.finish();
  EXPECT_EQ(c.events, want);
  EXPECT_EQ(c.framer_.buffered(), 0u);
}

TEST(Framing, RandomChunkingNeverChangesTheLines) {
  std::mt19937 rng(42);
  std::string stream;
  std::vector<Event> want;
  for (int i = 0; i < 300; ++i) {
    std::string m(rng() % 3000, 'a' + static_cast<char>(i % 26));
    stream += m + "\n";
    want.push_back(line(m));
  }
  for (int round = 0; round < 50; ++round) {
    std::vector<size_t> sizes;
    for (int k = 0; k < 17; ++k) sizes.push_back(1 + rng() % 5000);
    ASSERT_EQ(frame_in_chunks(stream, sizes), want) << "round " << round;
  }
}

// Reads of every size the kernel may return, straight into the framer's buffer (the relay's path),
// with lines from a few bytes to several MiB: the lines are exact, each is a view into the buffer
// followed there by its '\n' (what the relay writes without copying), and views stay valid and
// unchanged until the next space() call.
TEST(Framing, ReadsIntoTheBufferHandOutViewsThatLastUntilTheNextRead) {
  std::mt19937 rng(7);
  std::string stream;
  std::vector<std::string> want;
  for (int i = 0; i < 60; ++i) {
    size_t len = i % 10 == 0 ? (1u << 20) * (1 + rng() % 3) + rng() % 1000 : rng() % 70000;
    std::string m(len, static_cast<char>('a' + i % 26));
    if (!m.empty()) m[len / 2] = static_cast<char>('A' + i % 26);
    stream += m + "\n";
    want.push_back(m);
  }
  for (size_t max_read : {size_t{1} << 10, size_t{61} << 10, size_t{1} << 20, size_t{8} << 20}) {
    LineFramer f;
    std::vector<std::string> got;
    size_t pos = 0;
    while (pos < stream.size()) {
      LineFramer::Space sp = f.space();
      ASSERT_GT(sp.size, 0u);
      size_t n = std::min({sp.size, max_read, stream.size() - pos, 1 + rng() % max_read});
      std::memcpy(sp.data, stream.data() + pos, n);
      pos += n;
      std::vector<std::pair<std::string_view, std::string>> views;
      f.commit(n, [&](const FrameEvent& e) {
        ASSERT_EQ(e.kind, FrameEvent::line);
        ASSERT_TRUE(f.holds(e.bytes.data(), e.bytes.size() + 1));
        ASSERT_EQ(e.bytes.data()[e.bytes.size()], '\n');
        views.emplace_back(e.bytes, std::string(e.bytes));
        got.emplace_back(e.bytes);
      });
      for (const auto& [view, copy] : views) ASSERT_EQ(view, copy) << "a later line overwrote one";
    }
    ASSERT_EQ(got, want) << "max read " << max_read;
    // The buffer grew for the 3 MiB lines, to a bounded size, and is given back once empty.
    EXPECT_LE(f.capacity(), size_t{16} << 20);
    f.space();
    EXPECT_LE(f.capacity(), LineFramer::kKeepCap);
  }
}

// What a relay of big lines keeps resident is the framer's buffer, all of whose pages reads touch
// as they go round it: for a stream of 1 MiB lines read as a full 1 MiB pipe delivers them, it
// stays near twice a line (the line being completed and the next read), not four times.
TEST(Framing, BufferForBigLinesStaysNearTwiceTheLine) {
  const size_t line = (1u << 20) + 60;  // a 1 MiB string in its JSON-RPC envelope
  std::string m(line, 'x');
  m += '\n';
  LineFramer f;
  size_t pending = 0, seen = 0, largest = 0;
  for (int i = 0; i < 64; ++i) {
    pending += m.size();  // four lines in flight: the pipe always has a full 1 MiB to give
    while (pending > 3 * m.size()) {
      LineFramer::Space sp = f.space();
      size_t n = std::min({sp.size, size_t{1} << 20, pending});
      size_t off = (m.size() * 64 - pending) % m.size();  // where in a line this read starts
      for (size_t k = 0; k < n; ++k) sp.data[k] = m[(off + k) % m.size()];
      pending -= n;
      f.commit(n, [&](const FrameEvent& e) {
        ASSERT_EQ(e.kind, FrameEvent::line);
        ASSERT_EQ(e.size, line);
        ++seen;
      });
      largest = std::max(largest, f.capacity());
    }
  }
  EXPECT_GT(seen, 50u);
  EXPECT_LE(largest, 2 * m.size() + LineFramer::kMinRead);
}

TEST(Framing, LinesNotFollowedByTheirNewlineAreNotHeld) {
  // A last line without '\n' must be copied by a relay that queues it: holds() says so.
  LineFramer f;
  std::string_view seen;
  bool held = true;
  f.feed("{\"id\":1}", [](const FrameEvent&) {});
  f.finish([&](const FrameEvent& e) {
    seen = e.bytes;
    held = f.holds(e.bytes.data(), e.bytes.size() + 1);
  });
  EXPECT_EQ(seen, "{\"id\":1}");
  EXPECT_FALSE(held);
  EXPECT_FALSE(f.holds("x", 1));
}

TEST(Framing, PartialLineAtEofIsReportedNotForwarded) {
  Collector c;
  c.feed("{\"id\":1}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"meth");
  c.finish();
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0], line("{\"id\":1}"));
  EXPECT_EQ(c.events[1].kind, FrameEvent::partial_at_eof);
  EXPECT_EQ(c.events[1].bytes, "{\"jsonrpc\":\"2.0\",\"id\":2,\"meth");
  // Nothing more after finish, and the framer is reusable.
  c.events.clear();
  c.finish();
  EXPECT_TRUE(c.events.empty());
}

TEST(Framing, CrlfKeepsTheCrForTheScannerToTolerate) {
  // The framer splits on LF only and never edits bytes; a CR before the LF is JSON whitespace,
  // which the scanner accepts, so a CRLF peer still works.
  Collector c;
  c.feed(
      "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}\r\n{\"jsonrpc\":\"2.0\",\"id\":0,"
      "\"result\":{}}\r");
  c.feed("\n");
  c.finish();
  ASSERT_EQ(c.events.size(), 2u);
  for (const Event& e : c.events) {
    ASSERT_EQ(e.kind, FrameEvent::line);
    EXPECT_EQ(e.bytes.back(), '\r');
    MessageInfo info;
    scan_message(e.bytes, info);
    EXPECT_NE(info.kind, MessageKind::invalid) << info.error_text;
    EXPECT_EQ(info.id, "0");
  }
}

TEST(Framing, EmptyLinesAreDeliveredAsEmptyLines) {
  Collector c;
  c.feed("\n\n{\"id\":1}\n\n");
  c.finish();
  EXPECT_EQ(c.events, (std::vector<Event>{line(""), line(""), line("{\"id\":1}"), line("")}));
  MessageInfo info;
  scan_message("", info);
  EXPECT_EQ(info.kind, MessageKind::invalid);  // the relay decides; it must not forward it as JSON
}

TEST(Framing, LineOfExactlyTheCapPasses) {
  std::string m(100, 'x');
  EXPECT_EQ(frame_in_chunks(m + "\n", {7}, 100), std::vector<Event>{line(m)});
  EXPECT_EQ(frame_in_chunks(m + "\n", {1000}, 100), std::vector<Event>{line(m)});
}

TEST(Framing, OversizeLineIsNeverForwardedInPartAndTheStreamGoesOn) {
  const size_t cap = 1000;
  std::string big = R"({"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"x":")" +
                    std::string(5000, 'A') + "\"}}";
  std::string stream = "{\"id\":1}\n" + big + "\n{\"id\":2}\n";
  for (size_t chunk : {1ul, 3ul, 64ul, 999ul, 1000ul, 1001ul, 100000ul}) {
    std::vector<Event> ev = frame_in_chunks(stream, {chunk}, cap);
    ASSERT_EQ(ev.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(ev[0], line("{\"id\":1}"));
    EXPECT_EQ(ev[1].kind, FrameEvent::oversize);
    EXPECT_EQ(ev[1].size, big.size());
    EXPECT_TRUE(big.starts_with(ev[1].bytes));
    EXPECT_EQ(find_id_in_prefix(ev[1].bytes), "\"req-7\"") << "chunk " << chunk;
    EXPECT_EQ(ev[2], line("{\"id\":2}"));
  }
}

TEST(Framing, OversizePrefixIsBoundedEvenForHugeLines) {
  // A 40 MiB line with the default 16 MiB cap: memory stays at the prefix, the size is exact,
  // and the id that sits at the front is found.
  Collector c;
  std::string head = R"({"jsonrpc":"2.0","method":"tools/call","id":42,"params":{"blob":")";
  c.feed(head);
  std::string mib(1u << 20, 'z');
  size_t total = head.size();
  for (int i = 0; i < 40; ++i) {
    c.feed(mib);
    total += mib.size();
    ASSERT_LE(c.framer_.buffered(), LineFramer::kDefaultMaxLine);
  }
  EXPECT_LE(c.framer_.buffered(), LineFramer::kOversizePrefix);
  c.feed("\"}}\n{\"id\":3}\n");
  total += 3;
  c.finish();
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0].kind, FrameEvent::oversize);
  EXPECT_EQ(c.events[0].size, total);
  EXPECT_EQ(c.events[0].bytes.size(), LineFramer::kOversizePrefix);
  EXPECT_EQ(find_id_in_prefix(c.events[0].bytes), "42");
  EXPECT_EQ(c.events[1], line("{\"id\":3}"));
}

TEST(Framing, OversizeLineCutByEofIsReportedAsOversize) {
  Collector c(10);
  c.feed("0123456789abcdef");
  c.finish();
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].kind, FrameEvent::oversize);
  EXPECT_EQ(c.events[0].size, 16u);
}

TEST(Framing, OversizeWhoseIdSitsPastThePrefixHasNoId) {
  std::string big = R"({"jsonrpc":"2.0","method":"x","params":{"p":")" +
                    std::string(LineFramer::kOversizePrefix, 'q') + R"("},"id":9})";
  std::vector<Event> ev = frame_in_chunks(big + "\n", {4096}, 1024);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, FrameEvent::oversize);
  EXPECT_EQ(find_id_in_prefix(ev[0].bytes), "");  // the sender cannot be answered by id
}

TEST(Framing, InvalidUtf8IsFramedUntouchedAndRejectedByTheScanner) {
  std::string bad = "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"s\":\"\xff\xfe\"}}";
  Collector c;
  c.feed(bad + "\n");
  c.finish();
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0], line(bad));
  MessageInfo info;
  scan_message(c.events[0].bytes, info);
  EXPECT_EQ(info.kind, MessageKind::invalid);
  EXPECT_NE(info.error_text.find("UTF-8"), std::string::npos) << info.error_text;
}

TEST(Framing, MultiByteCharacterSplitAcrossReadsSurvives) {
  std::string m =
      "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"s\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\"}}";
  for (size_t chunk = 1; chunk < 8; ++chunk) {
    std::vector<Event> ev = frame_in_chunks(m + "\n", {chunk});
    ASSERT_EQ(ev, std::vector<Event>{line(m)});
    MessageInfo info;
    scan_message(ev[0].bytes, info);
    EXPECT_EQ(info.kind, MessageKind::notification);
  }
}

TEST(Framing, BatchArrayIsOneLine) {
  std::string batch =
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}])";
  std::vector<Event> ev = frame_in_chunks(batch + "\n", {5});
  ASSERT_EQ(ev, std::vector<Event>{line(batch)});
  MessageInfo info;
  scan_message(ev[0].bytes, info);
  EXPECT_EQ(info.kind, MessageKind::batch);
}

}  // namespace
}  // namespace mcpcell
