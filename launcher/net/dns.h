// The sandbox's DNS, wire side: parses one query (RFC 1035 §4, one question, no compression in it)
// and builds the answer. Only what a stub resolver sends is accepted; anything else is FORMERR or
// NOTIMP, decided here, so the responder never forwards or interprets more than it must. Names are
// taken label by label from the wire: a '.' or NUL inside a label (which a dotted string would
// hide) is refused before the name is ever joined into text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"

namespace mcpcell::net {

namespace dns {
constexpr uint16_t kTypeA = 1, kTypeAAAA = 28, kClassIN = 1;
constexpr uint8_t kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kNotImp = 4,
                  kRefused = 5;
}  // namespace dns

struct DnsQuery {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qtype = 0, qclass = 0;
  std::string raw_name;    // the name as sent, printable (\xNN escapes), for audit records
  std::string name;        // canonical form; empty when the name broke the grammar
  std::string name_error;  // why it broke it
  std::string question;    // the question section's bytes, echoed in the answer
};

// Returns the rcode to answer with if the message is not a plain query we handle (kFormErr,
// kNotImp), or kNoError with *q filled. Returns nullopt when the message must be dropped without
// an answer (too short to carry an id, or a response rather than a query).
std::optional<uint8_t> parse_query(const uint8_t* data, size_t size, DnsQuery* q);

// A complete DNS message answering `q` with `rcode` and, for kNoError, one A/AAAA record per
// address (matching q.qtype) with `ttl`. When the query could not be parsed, pass a DnsQuery with
// only `id` set (the question section is then left out).
std::string build_response(const DnsQuery& q, uint8_t rcode, const std::vector<IpAddr>& answers,
                           uint32_t ttl);

// Addresses handed out for allowed names: one per name, stable for the session, from a /16 of
// loopback that nothing else in the sandbox uses, so the address a connection arrives at says
// which name the program resolved.
class NamePool {
 public:
  explicit NamePool(IpAddr base = IpAddr::v4(127, 100, 0, 0)) : base_(base) {}
  // The address for `name`, allocating one; nullopt when the pool is exhausted.
  std::optional<IpAddr> address_for(const std::string& name);
  // The name an address was handed out for, or nullptr.
  const std::string* name_at(const IpAddr& a) const;
  bool contains(const IpAddr& a) const;  // inside the pool's range (handed out or not)

 private:
  IpAddr base_;
  uint32_t next_ = 1;
  std::map<std::string, IpAddr> by_name_;
  std::map<IpAddr, std::string> by_addr_;
};

}  // namespace mcpcell::net
