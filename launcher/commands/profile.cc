// mcpcell profile list | show NAME|FILE [-- COMMAND...] | check FILE|NAME...
// `show` prints the merged profile as a run of COMMAND would get it (placeholders such as ${args}
// expand against COMMAND when given), with where each grant came from.
#include <iostream>
#include <set>

#include "commands/commands.h"
#include "core/identity.h"
#include "profiles/catalog.h"
#include "profiles/profile.h"
#include "profiles/resolve.h"

namespace mcpcell {
namespace {

using nlohmann::json;
namespace pf = profiles;

std::string match_summary(const pf::Match& m) {
  std::string s;
  for (const auto& n : m.npm) s += (s.empty() ? "" : ", ") + std::string("npm:") + n;
  for (const auto& n : m.pypi) s += (s.empty() ? "" : ", ") + std::string("pypi:") + n;
  for (const auto& n : m.executables) s += (s.empty() ? "" : ", ") + std::string("exe:") + n;
  return s;
}

int list(const Args& args) {
  bool as_json = false;
  for (const std::string& a : args) {
    if (a == "--json")
      as_json = true;
    else
      return fail(125, "unknown option for 'profile list': " + a,
                  "usage: mcpcell profile list [--json]");
  }
  pf::Context ctx = pf::context_from_process("");
  std::vector<std::string> errors;
  std::vector<pf::ProfileText> texts = pf::user_profiles(ctx.config_dir, &errors);
  for (const std::string& e : errors) std::cerr << "mcpcell: " << e << "\n";
  std::set<std::string> user_names;
  for (const auto& t : texts) user_names.insert(t.name);
  for (auto& t : pf::builtin_profiles()) {
    if (user_names.count(t.name)) continue;
    texts.push_back(std::move(t));
  }
  json out = json::array();
  int rc = 0;
  for (const pf::ProfileText& t : texts) {
    pf::Profile p;
    std::string err;
    json row = {{"name", t.name}, {"source", t.source}, {"builtin", t.builtin}};
    if (!pf::parse_profile(t.text, t.name, t.source, &p, &err)) {
      row["error"] = err;
      rc = 1;
    } else {
      row["description"] = p.description;
      row["match_text"] = match_summary(p.match);
      row["match"] = {
          {"npm", p.match.npm}, {"pypi", p.match.pypi}, {"executables", p.match.executables}};
    }
    out.push_back(row);
  }
  if (as_json) {
    for (json& r : out) {
      r.erase("match_text");
      std::cout << r.dump() << "\n";
    }
    return rc;
  }
  for (const json& r : out) {
    std::string name = r["name"];
    std::string origin = r["builtin"].get<bool>() ? "shipped" : r["source"].get<std::string>();
    std::cout << name << std::string(name.size() < 22 ? 22 - name.size() : 1, ' ');
    if (r.contains("error")) {
      std::cout << "INVALID: " << r["error"].get<std::string>() << "\n";
      continue;
    }
    std::cout << r["description"].get<std::string>();
    if (!r["match_text"].get<std::string>().empty())
      std::cout << "  (" << r["match_text"].get<std::string>() << ")";
    if (!r["builtin"].get<bool>()) std::cout << "  [" << origin << "]";
    std::cout << "\n";
  }
  return rc;
}

int show(const Args& args) {
  bool as_json = false;
  std::string target, server_name;
  std::vector<std::string> command;
  pf::Overrides o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::vector<std::string>* dest) {
      if (i + 1 >= args.size()) return false;
      dest->push_back(args[++i]);
      return true;
    };
    if (a == "--") {
      command.assign(args.begin() + i + 1, args.end());
      break;
    }
    if (a == "--json")
      as_json = true;
    else if (a == "--name" && i + 1 < args.size())
      server_name = args[++i];
    else if (a == "--allow-read") {
      if (!value(&o.allow_read)) return fail(125, "--allow-read needs a PATH");
    } else if (a == "--allow-write") {
      if (!value(&o.allow_write)) return fail(125, "--allow-write needs a PATH");
    } else if (a == "--allow-net") {
      if (!value(&o.allow_net)) return fail(125, "--allow-net needs HOST[:PORT]");
    } else if (a == "--allow-env") {
      if (!value(&o.allow_env)) return fail(125, "--allow-env needs a NAME");
    } else if (!a.empty() && a[0] == '-')
      return fail(125, "unknown option for 'profile show': " + a);
    else if (target.empty())
      target = a;
    else
      return fail(125, "'profile show' takes one profile",
                  "usage: mcpcell profile show NAME|FILE [--json] [-- COMMAND ARG...]");
  }
  if (target.empty() && command.empty())
    return fail(125, "'profile show' needs a profile name or a command",
                "usage: mcpcell profile show NAME|FILE [--json] [-- COMMAND ARG...]  (with only "
                "-- COMMAND, shows the profile mcpcell would pick for it)");
  if (server_name.empty()) server_name = command.empty() ? target : derive_server_name(command);
  if (server_name.empty() || server_name.find('/') == 0) server_name = "unknown";
  pf::Context ctx = pf::context_from_process(server_name);
  pf::Resolved r;
  std::string err;
  if (!pf::resolve(target, command, o, ctx, &r, &err)) return fail(125, err);
  for (const std::string& w : r.warnings) std::cerr << "mcpcell: warning: " << w << "\n";
  if (as_json) {
    std::cout << r.provenance.dump(2) << "\n";
  } else {
    if (command.empty())
      std::cout << "(no command given: placeholders such as ${args} expand to nothing; add "
                   "-- COMMAND ARG... to see a real run)\n";
    std::cout << pf::render_provenance(r.provenance);
  }
  return 0;
}

int check(const Args& args) {
  if (args.empty())
    return fail(125, "'profile check' needs a FILE", "usage: mcpcell profile check FILE|NAME...");
  pf::Context ctx = pf::context_from_process("check");
  int rc = 0;
  for (const std::string& a : args) {
    pf::Resolved r;
    std::string err;
    // Resolving also follows `extends` and expands every placeholder, which the plain parse does
    // not.
    if (!pf::resolve(a, {}, {}, ctx, &r, &err)) {
      std::cerr << err << "\n";
      rc = 1;
      continue;
    }
    std::cout << a << ": ok (profile " << r.name << ", " << r.provenance["layers"].size()
              << " layer(s))\n";
  }
  return rc;
}

}  // namespace

int cmd_profile(const Args& args) {
  const char* usage =
      "usage: mcpcell profile list [--json] | show NAME|FILE [--json] [-- COMMAND ARG...] | check "
      "FILE|NAME...";
  if (args.empty()) return fail(125, "'mcpcell profile' needs a subcommand", usage);
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage << "\n\n"
              << "  list     the shipped and user profiles ($XDG_CONFIG_HOME/mcpcell/profiles/)\n"
              << "  show     the merged profile and where each grant came from; with -- COMMAND,\n"
              << "           as a run of COMMAND would get it (also --name, --allow-*, --json)\n"
              << "  check    validate profile files (or names), following `extends`\n"
              << "The format is described in docs/profiles.md; profiles/schema.json is its JSON "
                 "Schema.\n";
    return 0;
  }
  Args rest(args.begin() + 1, args.end());
  if (args[0] == "list") return list(rest);
  if (args[0] == "show") return show(rest);
  if (args[0] == "check") return check(rest);
  return fail(125, "unknown subcommand 'profile " + args[0] + "'", usage);
}

}  // namespace mcpcell
