// The relay's filter chain (modelled on Envoy's network filters).
//
// Every complete line, in either direction, becomes a Message and runs through the chain: client to
// server in the order the filters were added, server to client in reverse, so a filter that wraps
// the server (pins, say) is the one nearest to it both ways. A filter may let the message continue,
// change it (Message::replace), or stop it; a stopped request is answered through
// FilterContext::reply_error so the sender never waits. Filters are built once per session from
// policy and run on the relay thread: no exceptions, no blocking I/O.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jsonrpc.h"

namespace mcpcell {

enum class Direction : uint8_t { c2s, s2c };
inline const char* to_string(Direction d) { return d == Direction::c2s ? "c2s" : "s2c"; }
inline Direction reverse(Direction d) { return d == Direction::c2s ? Direction::s2c : Direction::c2s; }

// An advertised item that a filter wants withheld from the client (e.g. a poisoned tool found by the
// scanner); the pin filter acts on these.
struct ItemFlag {
  std::string kind;    // "tool", "prompt", "resource", ...
  std::string item;    // its name or uri
  std::string rule;    // rule id that flagged it
  std::string reason;  // readable, never holds a secret
};

class Message {
 public:
  Message(Direction dir, std::string_view line) : dir_(dir), line_(line) { scan_message(line_, info_); }

  Direction dir() const { return dir_; }
  const MessageInfo& info() const { return info_; }
  std::string_view bytes() const { return line_; }
  bool modified() const { return modified_; }

  // Replaces the bytes that will be forwarded and re-scans them. The new line must be one valid
  // JSON-RPC message without a newline.
  void replace(std::string new_line) {
    storage_ = std::move(new_line);
    line_ = storage_;
    modified_ = true;
    scan_message(line_, info_);
  }

  // For responses: the method and params of the request they answer (same id, opposite direction),
  // filled in by the relay before the chain runs. Empty when unknown.
  std::string request_method;
  std::string request_params;  // raw JSON, kept only when small (list cursors, tool names)

  // Items that an earlier filter asks later filters to withhold.
  std::vector<ItemFlag> flagged_items;

 private:
  Direction dir_;
  std::string_view line_;
  std::string storage_;
  MessageInfo info_;
  bool modified_ = false;
};

struct SessionInfo {
  std::string server;   // identity for pins and logs (--name)
  std::string session;  // random id of this run
  std::string profile;  // profile name in force
};

class FilterContext {
 public:
  virtual ~FilterContext() = default;
  virtual const SessionInfo& session() const = 0;
  // Queues a line (without newline) towards the client (s2c) or the server (c2s), after any line
  // already queued in that direction. Injected lines do not run through the chain.
  virtual void send(Direction towards, std::string line) = 0;
  // Writes an audit record: `fields` must be an object; ts, server, session and event are added.
  virtual void audit(std::string_view event, nlohmann::json fields) = 0;
  // A keyed hash for a finding, so records can correlate secrets without holding them.
  virtual std::string fingerprint(std::string_view secret) const = 0;

  // Answers the sender of request `m` with a JSON-RPC error (message prefixed "mcpcell: ").
  // Does nothing for messages that expect no answer.
  void reply_error(const Message& m, int code, std::string_view text) {
    if (!m.info().is_request() || !m.info().has_id()) return;
    std::string msg = "mcpcell: ";
    msg += text;
    send(reverse(m.dir()), make_error_response(m.info().id, code, msg));
  }
};

enum class FilterStatus { Continue, Stop };

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  virtual void on_start(FilterContext&) {}
  virtual FilterStatus on_message(Message& msg, FilterContext& ctx) = 0;
  virtual void on_end(FilterContext&) {}
};

class FilterChain {
 public:
  void add(std::unique_ptr<Filter> f) { filters_.push_back(std::move(f)); }
  bool empty() const { return filters_.empty(); }
  size_t size() const { return filters_.size(); }

  void start(FilterContext& ctx) {
    for (auto& f : filters_) f->on_start(ctx);
  }
  void end(FilterContext& ctx) {
    for (auto& f : filters_) f->on_end(ctx);
  }
  FilterStatus run(Message& m, FilterContext& ctx) {
    if (m.dir() == Direction::c2s) {
      for (auto& f : filters_)
        if (f->on_message(m, ctx) == FilterStatus::Stop) return FilterStatus::Stop;
    } else {
      for (auto it = filters_.rbegin(); it != filters_.rend(); ++it)
        if ((*it)->on_message(m, ctx) == FilterStatus::Stop) return FilterStatus::Stop;
    }
    return FilterStatus::Continue;
  }

 private:
  std::vector<std::unique_ptr<Filter>> filters_;
};

}  // namespace mcpcell
