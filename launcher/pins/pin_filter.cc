#include "pins/pin_filter.h"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/identity.h"
#include "io/audit.h"
#include "io/paths.h"
#include "pins/canonical.h"
#include "pins/checker.h"
#include "pins/package.h"
#include "pins/pin_store.h"

namespace mcpcell {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace pins;

namespace {

// Writes to the pin store happen off the relay thread: the relay must never wait for fsync.
// Updates are closures applied in order under the store's lock; several queued ones share one
// write.
class Saver {
 public:
  Saver(PinStore store, std::string server)
      : store_(std::move(store)), server_(std::move(server)) {}
  ~Saver() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void push(std::function<void(ServerPins&)> fn) {
    {
      std::lock_guard<std::mutex> l(mu_);
      // Started at the first update: most sessions of a pinned server change nothing.
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      queue_.push_back(std::move(fn));
      ++pushed_;
    }
    cv_.notify_all();
  }
  void flush() {
    std::unique_lock<std::mutex> l(mu_);
    uint64_t target = pushed_;
    done_cv_.wait(l, [&] { return written_ >= target; });
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      std::deque<std::function<void(ServerPins&)>> batch;
      batch.swap(queue_);
      l.unlock();
      Status st = store_.update(server_, [&](ServerPins& p) {
        for (auto& fn : batch) fn(p);
      });
      if (!st) std::fprintf(stderr, "mcpcell: pins: %s\n", st.message().c_str());
      l.lock();
      written_ += batch.size();
      done_cv_.notify_all();
    }
  }

  PinStore store_;
  std::string server_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::function<void(ServerPins&)>> queue_;
  uint64_t pushed_ = 0, written_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

constexpr std::string_view kPrivateIdPrefix = "\"mcpcell-pins-";

// What a list_changed notification makes us re-fetch.
struct Recheck {
  std::vector<const char*> methods;
  size_t index = 0;
  bool in_flight = false;
  bool dirty = false;  // another notification arrived while fetching
  int restarts = 0;
  size_t pages = 0;
  std::vector<std::string> held;  // the notifications, released once the lists are judged
};

struct PrivateRequest {
  std::string notification;
  const ListKind* list;
  std::string cursor;
};

std::vector<const char*> lists_for_notification(std::string_view method) {
  if (method == "notifications/tools/list_changed") return {"tools/list"};
  if (method == "notifications/prompts/list_changed") return {"prompts/list"};
  if (method == "notifications/resources/list_changed")
    return {"resources/list", "resources/templates/list"};
  return {};
}

class PinFilter : public Filter {
 public:
  PinFilter(const ChainConfig& cfg, Mode mode, bool package_block, ServerPins stored,
            std::map<std::string, Pin> lock_pins)
      : server_(cfg.session.server),
        mode_(mode),
        package_block_(package_block),
        saver_(PinStore(cfg.state_dir), cfg.session.server) {
    effective_ = stored.pins;
    for (auto& [k, p] : lock_pins) effective_[k] = p;  // the reviewed lock file wins
    index_ = build_body_index(effective_);
    for (const auto& [k, p] : stored.pending) awaiting_[k] = p.reason;
    hash_cache_ = stored.hash_cache;
    last_seen_ = stored.last_seen;
    launch_.argv = cfg.argv;
    launch_.cwd = cfg.project_dir.empty() ? fs::current_path() : fs::path(cfg.project_dir);
    launch_.homes = {cfg.state_dir / "homes" / server_name_to_filename(server_), home_dir()};
    if (const char* p = ::getenv("PATH")) launch_.path_env = p;
  }

  std::string_view name() const override { return "pins"; }

  // Hashing an interpreter the first time takes a few hundred ms: do it while the server starts.
  // What npx or uvx resolve exists only once the server runs, so those wait for its answer.
  void on_start(FilterContext&) override {
    if (mode_ == Mode::off || !package_of(launch_.argv).ecosystem.empty()) return;
    launch_future_ =
        std::async(std::launch::async, [launch = launch_, cache = hash_cache_]() mutable {
          PackageInfo info = describe_launch(launch, &cache);
          return std::make_pair(std::move(info), std::move(cache));
        });
  }

  void on_end(FilterContext&) override {
    std::string now = rfc3339_now();
    // To the hour: rewriting the pins file (an fsync) at the end of every session to move this by
    // seconds is not worth it. When the file already says this hour there is nothing to ask the
    // saver for, and the session's end does not wait on its thread.
    if (last_seen_.compare(0, 13, now, 0, 13) != 0) {
      saver_.push([now](ServerPins& p) {
        if (p.last_seen.compare(0, 13, now, 0, 13) != 0) p.last_seen = now;
      });
    }
    // A session that ended before the server answered (a crash, a probe, a client that gave up)
    // still keeps the interpreter's hash if it is done, so the next start does not hash it again.
    if (launch_future_.valid() &&
        launch_future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      json cache = launch_future_.get().second;
      if (cache != hash_cache_) {
        saver_.push([cache](ServerPins& s) {
          for (auto it = cache.begin(); it != cache.end(); ++it)
            s.hash_cache[it.key()] = it.value();
        });
      }
    }
    saver_.flush();
  }

  FilterStatus on_message(Message& msg, FilterContext& ctx) override {
    const MessageInfo& info = msg.info();
    if (blocked_) {
      if (msg.dir() == Direction::c2s) ctx.reply_error(msg, rpc_code::quarantined, block_text_);
      return FilterStatus::Stop;
    }
    if (msg.dir() == Direction::c2s) return on_client(msg, ctx);
    if (info.is_response()) {
      if (info.id.starts_with(kPrivateIdPrefix)) return on_private_response(msg, ctx);
      if (info.kind != MessageKind::response) return FilterStatus::Continue;
      if (msg.request_method == "initialize") return on_initialize(msg, ctx);
      if (const ListKind* lk = list_kind_for_method(msg.request_method))
        return on_list(msg, *lk, ctx);
      return FilterStatus::Continue;
    }
    if (info.kind == MessageKind::notification) return on_server_notification(msg, ctx);
    return FilterStatus::Continue;
  }

 private:
  // ---- client to server ----

  FilterStatus on_client(Message& msg, FilterContext& ctx) {
    const MessageInfo& info = msg.info();
    if (info.kind == MessageKind::notification && info.method == "notifications/initialized")
      client_initialized_ = true;
    if (!info.is_request()) return FilterStatus::Continue;
    const ListKind* lk = list_kind_for_call(info.method);
    if (!lk || !has_withheld(lk->kind)) return FilterStatus::Continue;
    json params = json::parse(info.params, nullptr, false);
    if (!params.is_object() || !params.contains(lk->call_field) ||
        !params[lk->call_field].is_string())
      return FilterStatus::Continue;
    std::string item = params[lk->call_field].get<std::string>();
    std::string key = item_key(lk->kind, item);
    std::string why;
    if (auto it = withheld_.find(key); it != withheld_.end()) {
      why = it->second;
    } else if (auto a = awaiting_.find(key); a != awaiting_.end()) {
      why = std::string(lk->kind) + " '" + item + "' is awaiting review (" + a->second +
            " in an earlier session)" + review_hint(lk->kind, item);
    } else {
      return FilterStatus::Continue;
    }
    ctx.reply_error(msg, rpc_code::quarantined, why);
    return FilterStatus::Stop;
  }

  bool has_withheld(std::string_view kind) const {
    std::string prefix = std::string(kind) + ":";
    auto w = withheld_.lower_bound(prefix);
    if (w != withheld_.end() && w->first.starts_with(prefix)) return true;
    auto a = awaiting_.lower_bound(prefix);
    return a != awaiting_.end() && a->first.starts_with(prefix);
  }

  std::string review_hint(std::string_view kind, const std::string& item) const {
    return ". Review it with `mcpcell pins diff " + server_ +
           "` and allow it with `mcpcell pins approve " + server_ + " " + std::string(kind) + ":" +
           item + "` (applies to the next session)";
  }

  // ---- server to client ----

  FilterStatus on_server_notification(Message& msg, FilterContext& ctx) {
    std::vector<const char*> lists = lists_for_notification(msg.info().method);
    // Before the handshake is over the client has listed nothing; its first list is checked.
    if (lists.empty() || mode_ == Mode::off || !init_result_seen_ || !client_initialized_)
      return FilterStatus::Continue;
    Recheck& r = rechecks_[std::string(msg.info().method)];
    if (r.in_flight) {
      // One more fetch covers it; the client still gets every notification, as the server sent.
      r.dirty = true;
      if (r.held.size() < 1024) r.held.emplace_back(msg.bytes());
      return FilterStatus::Stop;
    }
    r = Recheck();
    r.methods = std::move(lists);
    r.in_flight = true;
    r.held.emplace_back(msg.bytes());
    request_page(std::string(msg.info().method), list_kind_for_method(r.methods[0]), "", ctx);
    return FilterStatus::Stop;
  }

  void request_page(const std::string& notification, const ListKind* lk, const std::string& cursor,
                    FilterContext& ctx) {
    std::string id = "mcpcell-pins-" + std::to_string(++next_id_);
    std::string line = "{\"jsonrpc\":\"2.0\",\"id\":";
    append_json_string(line, id);
    line += ",\"method\":";
    append_json_string(line, lk->method);
    line += ",\"params\":{";
    if (!cursor.empty()) {
      line += "\"cursor\":";
      append_json_string(line, cursor);
    }
    line += "}}";
    std::string token;
    append_json_string(token, id);
    private_[token] = {notification, lk, cursor};
    ctx.send(Direction::c2s, std::move(line));
  }

  FilterStatus on_private_response(Message& msg, FilterContext& ctx) {
    auto it = private_.find(std::string(msg.info().id));
    if (it == private_.end()) return FilterStatus::Continue;  // not ours after all
    PrivateRequest req = std::move(it->second);
    private_.erase(it);
    Recheck& r = rechecks_[req.notification];
    std::string next_cursor;
    if (msg.info().kind == MessageKind::response) {
      json result = json::parse(msg.info().result, nullptr, false);
      if (result.is_object() && result.contains(req.list->array_field) &&
          result[req.list->array_field].is_array()) {
        judge_items(*req.list, result[req.list->array_field], {}, ctx);
        if (result.contains("nextCursor") && result["nextCursor"].is_string())
          next_cursor = result["nextCursor"].get<std::string>();
      }
    }
    if (!next_cursor.empty() && next_cursor != req.cursor && ++r.pages < 1000) {
      request_page(req.notification, req.list, next_cursor, ctx);
      return FilterStatus::Stop;
    }
    if (++r.index < r.methods.size()) {
      request_page(req.notification, list_kind_for_method(r.methods[r.index]), "", ctx);
      return FilterStatus::Stop;
    }
    if (r.dirty && r.restarts < 3) {
      r.dirty = false;
      ++r.restarts;
      r.index = 0;
      request_page(req.notification, list_kind_for_method(r.methods[0]), "", ctx);
      return FilterStatus::Stop;
    }
    for (auto& line : r.held) ctx.send(Direction::s2c, std::move(line));
    rechecks_.erase(req.notification);
    return FilterStatus::Stop;
  }

  static std::vector<FlagNote> flags_for(const std::vector<ItemFlag>& flags, std::string_view kind,
                                         const std::string& item) {
    std::vector<FlagNote> out;
    for (const auto& f : flags) {
      bool kind_ok =
          f.kind == kind || (kind == "resource_template" && f.kind == "resourceTemplate");
      if (kind_ok && f.item == item) out.push_back({f.rule, f.reason});
    }
    return out;
  }

  bool flags_accepted(const std::string& key, const std::string& sha,
                      const std::vector<FlagNote>& flags) const {
    auto it = effective_.find(key);
    if (it == effective_.end() || it->second.sha256 != sha) return false;
    for (const auto& f : flags)
      if (std::find(it->second.accepted_flags.begin(), it->second.accepted_flags.end(), f.rule) ==
          it->second.accepted_flags.end())
        return false;
    return true;
  }

  FilterStatus on_list(Message& msg, const ListKind& lk, FilterContext& ctx) {
    if (mode_ == Mode::off && msg.flagged_items.empty() && withheld_.empty())
      return FilterStatus::Continue;
    // A page identical to one already passed whole this session needs no second look (clients
    // re-list often); the set is cleared whenever something gets withheld.
    std::string page_key;
    if (msg.flagged_items.empty()) {
      page_key = pins::sha256_hex(msg.info().result) + lk.kind;
      if (clean_pages_.count(page_key)) return FilterStatus::Continue;
    }
    json result = json::parse(msg.info().result, nullptr, false);
    if (!result.is_object() || !result.contains(lk.array_field) ||
        !result[lk.array_field].is_array())
      return FilterStatus::Continue;
    json& items = result[lk.array_field];
    if (!judge_items(lk, items, msg.flagged_items, ctx)) {
      if (!page_key.empty() && clean_pages_.size() < 256) clean_pages_.insert(page_key);
      return FilterStatus::Continue;
    }
    replace_result(msg, result);
    return FilterStatus::Continue;
  }

  static void replace_result(Message& msg, const json& result) {
    std::string line = "{\"jsonrpc\":\"2.0\",\"id\":";
    line += msg.info().id;
    line += ",\"result\":";
    line += result.dump();
    line += "}";
    msg.replace(std::move(line));
  }

  // Judges every item of one list page, removing the withheld ones; true when any was removed.
  bool judge_items(const ListKind& lk, json& items, const std::vector<ItemFlag>& flags,
                   FilterContext& ctx) {
    json kept = json::array();
    bool removed = false;
    for (auto& value : items) {
      if (!value.is_object() || !value.contains(lk.id_field) || !value[lk.id_field].is_string()) {
        // Unnamed items cannot be pinned or called; the client must not see them either.
        ctx.audit("pin.quarantined", {{"kind", lk.kind}, {"item", ""}, {"reason", "malformed"}});
        removed = true;
        continue;
      }
      std::string item = value[lk.id_field].get<std::string>();
      if (judge(lk.kind, item, value, flags_for(flags, lk.kind, item), ctx)) {
        kept.push_back(std::move(value));
      } else {
        removed = true;
      }
    }
    if (removed) items = std::move(kept);
    return removed;
  }

  // Decides one item; returns true when the client may see it.
  bool judge(const std::string& kind, const std::string& item, const json& value,
             const std::vector<FlagNote>& flags, FilterContext& ctx) {
    std::string key = item_key(kind, item);
    if (withheld_.count(key)) return false;  // withheld for the rest of the session
    if (mode_ == Mode::off) {
      if (flags.empty() || flags_accepted(key, hash_json(value), flags)) return true;
      quarantine(kind, item, "flagged", hash_json(value), value, {}, "", flags, ctx);
      return false;
    }
    Verdict v = check_item(effective_, index_, kind, item, value, seen_);
    seen_.insert(key);
    bool flagged = !flags.empty() && !flags_accepted(key, v.sha256, flags);
    switch (v.kind) {
      case Verdict::same:
        if (flagged) break;
        if (awaiting_.erase(key)) saver_.push([key](ServerPins& p) { p.pending.erase(key); });
        return true;
      case Verdict::fresh:
        ctx.audit("pin.new", {{"kind", kind},
                              {"item", item},
                              {"sha256", v.sha256},
                              {"pinned", !flagged && mode_ == Mode::tofu}});
        if (flagged) break;
        if (mode_ == Mode::strict) {
          quarantine(kind, item, "new", v.sha256, value, {}, "", {}, ctx);
          return false;
        }
        pin(kind, item, v.sha256, value);
        return true;
      case Verdict::changed:
      case Verdict::renamed: {
        json rec = summarize(v.changes);
        rec["kind"] = kind;
        rec["item"] = item;
        rec["sha256"] = v.sha256;
        if (v.kind == Verdict::renamed) {
          rec["renamed_from"] = v.renamed_from;
        } else {
          rec["pinned_sha256"] = effective_[key].sha256;
        }
        ctx.audit("pin.changed", std::move(rec));
        quarantine(kind, item, v.kind == Verdict::renamed ? "renamed" : "changed", v.sha256, value,
                   v.changes, v.renamed_from, flags, ctx);
        return false;
      }
    }
    quarantine(kind, item, "flagged", v.sha256, value, {}, "", flags, ctx);
    return false;
  }

  void pin(const std::string& kind, const std::string& item, const std::string& sha,
           const json& value) {
    std::string key = item_key(kind, item);
    Pin p{kind, item, sha, value, rfc3339_now(), "", {}};
    effective_[key] = p;
    add_to_body_index(index_, key, p);
    awaiting_.erase(key);
    saver_.push([key, p](ServerPins& s) {
      s.pins.emplace(key, p);  // another session or an approval may have pinned it meanwhile
      s.pending.erase(key);
    });
  }

  void quarantine(const std::string& kind, const std::string& item, const std::string& reason,
                  const std::string& sha, const json& value, const std::vector<Change>& changes,
                  const std::string& renamed_from, const std::vector<FlagNote>& flags,
                  FilterContext& ctx) {
    std::string key = item_key(kind, item);
    std::string why;
    if (reason == "changed") {
      why = kind == "instructions"
                ? "they changed since they were pinned"
                : "its definition changed since it was pinned (" + describe(changes) + ")";
    } else if (reason == "renamed") {
      why = "it is the pinned '" + renamed_from + "' under a new name";
    } else if (reason == "new") {
      why = "it is not pinned yet and pins are in strict mode";
    } else {
      why = "the scanner flagged it (" + (flags.empty() ? std::string("?") : flags[0].rule) +
            (flags.empty() || flags[0].reason.empty() ? "" : ": " + flags[0].reason) + ")";
    }
    std::string label =
        kind == "instructions" ? "the server's instructions" : kind + " '" + item + "'";
    withheld_[key] = label + " is withheld: " + why + review_hint(kind, item);
    clean_pages_.clear();
    json rec = {{"kind", kind}, {"item", item}, {"reason", reason}, {"sha256", sha}};
    if (!flags.empty()) {
      rec["rule"] = flags[0].rule;
      rec["flags"] = json::array();
      for (const auto& f : flags) rec["flags"].push_back({{"rule", f.rule}, {"reason", f.reason}});
    }
    ctx.audit("pin.quarantined", std::move(rec));
    std::fprintf(stderr,
                 "mcpcell: pins: withheld %s of %s: %s; review with `mcpcell pins diff %s`\n",
                 label.c_str(), server_.c_str(), why.c_str(), server_.c_str());
    PendingItem p{kind, item, reason, sha, value, renamed_from, flags, rfc3339_now()};
    saver_.push([key, p](ServerPins& s) { s.pending[key] = p; });
  }

  // Items of the initialize result that cannot be withheld (the client needs them): a change is
  // recorded and waits for approval, but the value passes.
  void note_only(const std::string& kind, const std::string& item, const json& value,
                 FilterContext& ctx) {
    std::string key = item_key(kind, item);
    Verdict v = check_item(effective_, index_, kind, item, value, seen_);
    seen_.insert(key);
    if (v.kind == Verdict::same) {
      if (awaiting_.erase(key)) saver_.push([key](ServerPins& p) { p.pending.erase(key); });
      return;
    }
    if (v.kind == Verdict::fresh) {
      ctx.audit(
          "pin.new",
          {{"kind", kind}, {"item", item}, {"sha256", v.sha256}, {"pinned", mode_ == Mode::tofu}});
      if (mode_ == Mode::tofu) {
        pin(kind, item, v.sha256, value);
        return;
      }
    } else {
      json rec = summarize(v.changes);
      rec["kind"] = kind;
      rec["item"] = item;
      rec["sha256"] = v.sha256;
      ctx.audit("pin.changed", std::move(rec));
    }
    PendingItem p{kind,     item,         v.kind == Verdict::fresh ? "new" : "changed",
                  v.sha256, value,        "",
                  {},       rfc3339_now()};
    saver_.push([key, p](ServerPins& s) { s.pending[key] = p; });
  }

  FilterStatus on_initialize(Message& msg, FilterContext& ctx) {
    init_result_seen_ = true;
    json result = json::parse(msg.info().result, nullptr, false);
    if (!result.is_object()) return FilterStatus::Continue;
    bool modified = false;
    if (mode_ != Mode::off) {
      if (result.contains("serverInfo"))
        note_only("server", "serverInfo", result["serverInfo"], ctx);
      if (result.contains("capabilities"))
        note_only("capabilities", "capabilities", result["capabilities"], ctx);
    }
    if (result.contains("instructions")) {
      std::vector<FlagNote> flags;
      for (const auto& f : msg.flagged_items)
        if (f.kind == "instructions") flags.push_back({f.rule, f.reason});
      if (!judge("instructions", "instructions", result["instructions"], flags, ctx)) {
        result.erase("instructions");
        modified = true;
      }
    }
    if (mode_ != Mode::off && check_package(ctx)) {
      msg.replace(
          make_error_response(msg.info().id, rpc_code::quarantined, "mcpcell: " + block_text_));
      blocked_ = true;
      return FilterStatus::Continue;
    }
    if (modified) replace_result(msg, result);
    return FilterStatus::Continue;
  }

  // Pins the launched code; returns true when the session must be refused.
  bool check_package(FilterContext& ctx) {
    PackageInfo pkg;
    json cache_before = hash_cache_;
    if (launch_future_.valid()) {
      auto [info, cache] = launch_future_.get();
      pkg = std::move(info);
      hash_cache_ = std::move(cache);
    } else {
      pkg = describe_launch(launch_, &hash_cache_);
    }
    if (hash_cache_ != cache_before) {  // rewriting a large pin file costs tens of ms of CPU
      json cache = hash_cache_;
      saver_.push([cache](ServerPins& s) {
        for (auto it = cache.begin(); it != cache.end(); ++it) s.hash_cache[it.key()] = it.value();
      });
    }
    if (!pkg.resolved) {
      if (!pkg.item.empty())
        std::fprintf(stderr,
                     "mcpcell: pins: could not find which version of %s was launched; its code is "
                     "not pinned this session (use a version-pinned command)\n",
                     pkg.item.c_str());
      return false;
    }
    const Pin* old = nullptr;
    for (const auto& [k, p] : effective_)
      if (p.kind == "package") old = &p;
    std::string sha = hash_json(pkg.value);
    std::string key = item_key("package", pkg.item);
    if (old && old->sha256 == sha) {
      if (awaiting_.erase(key)) saver_.push([key](ServerPins& p) { p.pending.erase(key); });
      return false;
    }
    std::string reason;
    if (!old) {
      ctx.audit("pin.new", {{"kind", "package"},
                            {"item", pkg.item},
                            {"sha256", sha},
                            {"value", pkg.value},
                            {"pinned", mode_ == Mode::tofu}});
      if (mode_ == Mode::tofu) {
        pin("package", pkg.item, sha, pkg.value);
        return false;
      }
      reason = "new";
    } else {
      std::vector<Change> changes = diff_json(old->value, pkg.value);
      json rec = summarize(changes);
      rec["kind"] = "package";
      rec["item"] = pkg.item;
      rec["sha256"] = sha;
      rec["from"] = old->value;
      rec["to"] = pkg.value;
      rec["policy"] = package_block_ ? "block" : "warn";
      ctx.audit("pin.changed", std::move(rec));
      reason = "changed";
    }
    PendingItem p{"package", pkg.item, reason, sha, pkg.value, "", {}, rfc3339_now()};
    saver_.push([key, p](ServerPins& s) { s.pending[key] = p; });
    std::string what =
        reason == "new" ? "is not pinned yet (strict mode)" : "changed since it was pinned";
    if (!package_block_) {
      std::fprintf(
          stderr,
          "mcpcell: warning: the code of server %s (%s) %s; review with `mcpcell pins diff "
          "%s`, accept with `mcpcell pins approve %s package:%s`\n",
          server_.c_str(), pkg.item.c_str(), what.c_str(), server_.c_str(), server_.c_str(),
          pkg.item.c_str());
      return false;
    }
    ctx.audit("pin.quarantined",
              {{"kind", "package"}, {"item", pkg.item}, {"reason", reason}, {"sha256", sha}});
    block_text_ = "the code of server " + server_ + " (" + pkg.item + ") " + what +
                  " and the profile blocks package changes" + review_hint("package", pkg.item);
    std::fprintf(stderr, "mcpcell: %s\n", block_text_.c_str());
    return true;
  }

  std::string server_;
  Mode mode_;
  bool package_block_;
  std::map<std::string, Pin> effective_;
  BodyIndex index_;
  std::map<std::string, std::string> awaiting_;  // pending from earlier sessions: key -> reason
  std::map<std::string, std::string> withheld_;  // this session: key -> the error text
  std::set<std::string> seen_;
  std::set<std::string> clean_pages_;  // sha256 of list results that passed whole
  json hash_cache_;
  std::string last_seen_;  // as read at the start
  LaunchContext launch_;
  std::future<std::pair<PackageInfo, json>> launch_future_;
  bool init_result_seen_ = false;
  bool client_initialized_ = false;
  bool blocked_ = false;
  std::string block_text_;
  std::map<std::string, Recheck> rechecks_;        // by notification method
  std::map<std::string, PrivateRequest> private_;  // by raw id token
  uint64_t next_id_ = 0;
  Saver saver_;
};

}  // namespace

std::unique_ptr<Filter> make_pin_filter(const ChainConfig& config, Status* status) {
  *status = Status::Ok();
  Mode mode = Mode::tofu;
  bool package_block = false;
  const json& policy = config.policy;
  if (policy.is_object() && policy.contains("pins")) {
    const json& p = policy["pins"];
    if (!p.is_object()) {
      *status = Status::Error("policy \"pins\" must be an object, e.g. {\"mode\":\"tofu\"}");
      return nullptr;
    }
    if (p.contains("mode")) {
      if (!p["mode"].is_string() || !parse_mode(p["mode"].get<std::string>(), &mode)) {
        *status = Status::Error("policy pins.mode must be \"tofu\", \"strict\" or \"off\"");
        return nullptr;
      }
    }
    if (p.contains("package")) {
      std::string v = p["package"].is_string() ? p["package"].get<std::string>() : "";
      if (v != "warn" && v != "block") {
        *status = Status::Error("policy pins.package must be \"warn\" or \"block\"");
        return nullptr;
      }
      package_block = v == "block";
    }
  }
  PinStore store(config.state_dir);
  ServerPins stored;
  if (Status st = store.load(config.session.server, &stored); !st) {
    *status = st;
    return nullptr;
  }
  std::map<std::string, Pin> lock_pins;
  bool lock_found = false;  // servers without an entry simply use the user's store
  if (!config.project_dir.empty()) {
    Status st = load_lock(fs::path(config.project_dir) / kLockFileName, config.session.server,
                          &lock_pins, &lock_found);
    if (!st) {
      *status = st;
      return nullptr;
    }
  }
  return std::make_unique<PinFilter>(config, mode, package_block, std::move(stored),
                                     std::move(lock_pins));
}

}  // namespace mcpcell
