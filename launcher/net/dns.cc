#include "net/dns.h"

#include "net/allowlist.h"

namespace mcpcell::net {

namespace {

uint16_t get16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

void put16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v & 0xff));
}

void put32(std::string* s, uint32_t v) {
  put16(s, static_cast<uint16_t>(v >> 16));
  put16(s, static_cast<uint16_t>(v & 0xffff));
}

}  // namespace

std::optional<uint8_t> parse_query(const uint8_t* p, size_t n, DnsQuery* q) {
  if (n < 12) return std::nullopt;
  q->id = get16(p);
  q->flags = get16(p + 2);
  if (q->flags & 0x8000) return std::nullopt;              // a response: never answer it
  if (((q->flags >> 11) & 0xf) != 0) return dns::kNotImp;  // only standard queries
  if (get16(p + 4) != 1 || get16(p + 6) != 0 || get16(p + 8) != 0) return dns::kFormErr;
  size_t off = 12;
  std::string raw, dotted;
  bool bad_label = false;
  std::string why;
  while (true) {
    if (off >= n) return dns::kFormErr;
    uint8_t len = p[off++];
    if (len == 0) break;
    if (len & 0xc0) return dns::kFormErr;  // compression or extended labels: not in a question
    if (off + len > n) return dns::kFormErr;
    if (!raw.empty()) raw.push_back('.'), dotted.push_back('.');
    std::string_view label(reinterpret_cast<const char*>(p + off), len);
    raw += printable_name(label);
    for (char c : label) {
      // Checked here, before joining: a dot or NUL inside one label would read as a different
      // name once the labels are a dotted string.
      if (c == '.' || c == 0) {
        bad_label = true;
        why = c == 0 ? "NUL byte in name" : "'.' inside a label";
      }
    }
    dotted.append(label);
    off += len;
    if (raw.size() > 1024) return dns::kFormErr;
  }
  if (off + 4 > n) return dns::kFormErr;
  q->qtype = get16(p + off);
  q->qclass = get16(p + off + 2);
  off += 4;
  q->question.assign(reinterpret_cast<const char*>(p + 12), off - 12);
  q->raw_name = raw;
  q->name.clear();
  q->name_error.clear();
  if (bad_label) {
    q->name_error = why;
  } else if (!canonical_name(dotted, &q->name, &q->name_error)) {
    q->name.clear();
  }
  return dns::kNoError;
}

std::string build_response(const DnsQuery& q, uint8_t rcode, const std::vector<IpAddr>& answers,
                           uint32_t ttl) {
  std::string out;
  put16(&out, q.id);
  // QR=1, opcode 0, AA=1, RD copied, RA=1.
  uint16_t flags = 0x8000 | 0x0400 | (q.flags & 0x0100) | 0x0080 | (rcode & 0xf);
  put16(&out, flags);
  bool has_question = !q.question.empty();
  uint16_t an = 0;
  if (rcode == dns::kNoError && has_question)
    for (const IpAddr& a : answers)
      if ((a.v6 && q.qtype == dns::kTypeAAAA) || (!a.v6 && q.qtype == dns::kTypeA)) ++an;
  put16(&out, has_question ? 1 : 0);
  put16(&out, an);
  put16(&out, 0);
  put16(&out, 0);
  out += q.question;
  if (an == 0) return out;
  for (const IpAddr& a : answers) {
    if (a.v6 != (q.qtype == dns::kTypeAAAA)) continue;
    put16(&out, 0xc00c);  // the name in the question
    put16(&out, q.qtype);
    put16(&out, dns::kClassIN);
    put32(&out, ttl);
    put16(&out, a.v6 ? 16 : 4);
    out.append(reinterpret_cast<const char*>(a.b.data()), a.v6 ? 16 : 4);
  }
  return out;
}

std::optional<IpAddr> NamePool::address_for(const std::string& name) {
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
  if (next_ >= 0xff00) return std::nullopt;  // 127.100.255.x stays free (netns_child.h)
  IpAddr a = base_;
  a.b[2] = static_cast<uint8_t>(next_ >> 8);
  a.b[3] = static_cast<uint8_t>(next_ & 0xff);
  ++next_;
  by_name_[name] = a;
  by_addr_[a] = name;
  return a;
}

const std::string* NamePool::name_at(const IpAddr& a) const {
  auto it = by_addr_.find(a);
  return it == by_addr_.end() ? nullptr : &it->second;
}

bool NamePool::contains(const IpAddr& a) const {
  return !a.v6 && a.b[0] == base_.b[0] && a.b[1] == base_.b[1];
}

}  // namespace mcpcell::net
