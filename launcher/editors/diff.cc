// Line diff with Myers' O((N+M)D) algorithm: config rewrites change few lines of possibly large
// files (~/.claude.json), so D is small and the V-vector trace stays small too.
#include "editors/diff.h"

#include <vector>

namespace mcpcell::editors {
namespace {

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t b = 0;
  while (b < s.size()) {
    size_t e = s.find('\n', b);
    if (e == std::string_view::npos) e = s.size() - 1;
    out.push_back(s.substr(b, e - b + 1));
    b = e + 1;
  }
  return out;
}

enum class Op { kKeep, kDel, kAdd };

std::vector<Op> myers(const std::vector<std::string_view>& a,
                      const std::vector<std::string_view>& b) {
  const long n = static_cast<long>(a.size()), m = static_cast<long>(b.size()), max = n + m;
  const long off = max + 1;
  std::vector<long> v(2 * max + 3, 0);
  std::vector<std::vector<long>> trace;
  long d_found = -1;
  for (long d = 0; d <= max && d_found < 0; ++d) {
    trace.push_back(v);
    for (long k = -d; k <= d; k += 2) {
      long x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1]
                                                                        : v[off + k - 1] + 1;
      long y = x - k;
      while (x < n && y < m && a[x] == b[y]) ++x, ++y;
      v[off + k] = x;
      if (x >= n && y >= m) {
        d_found = d;
        break;
      }
    }
  }
  std::vector<Op> ops;
  long x = n, y = m;
  for (long d = d_found; d > 0; --d) {
    const std::vector<long>& pv = trace[d];
    long k = x - y;
    long pk = (k == -d || (k != d && pv[off + k - 1] < pv[off + k + 1])) ? k + 1 : k - 1;
    long px = pv[off + pk], py = px - pk;
    while (x > px && y > py) ops.push_back(Op::kKeep), --x, --y;
    ops.push_back(x == px ? Op::kAdd : Op::kDel);
    x = px;
    y = py;
  }
  while (x > 0 && y > 0) ops.push_back(Op::kKeep), --x, --y;
  return {ops.rbegin(), ops.rend()};
}

void emit_line(std::string* out, char mark, std::string_view line) {
  out->push_back(mark);
  out->append(line);
  if (line.empty() || line.back() != '\n') out->append("\n\\ No newline at end of file\n");
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after,
                         const std::string& before_label, const std::string& after_label,
                         int context) {
  if (before == after) return "";
  auto a = split_lines(before), b = split_lines(after);
  std::vector<Op> ops = myers(a, b);
  std::string out = "--- " + before_label + "\n+++ " + after_label + "\n";
  const long n = static_cast<long>(ops.size());
  long i = 0;
  // Positions in a and b at each op index.
  std::vector<long> ai(n + 1), bi(n + 1);
  for (long k = 0, x = 0, y = 0; k <= n; ++k) {
    ai[k] = x;
    bi[k] = y;
    if (k < n) {
      if (ops[k] != Op::kAdd) ++x;
      if (ops[k] != Op::kDel) ++y;
    }
  }
  while (i < n) {
    while (i < n && ops[i] == Op::kKeep) ++i;
    if (i >= n) break;
    long start = std::max(0L, i - context);
    long end = i;  // extend the hunk while changes are within 2*context lines of each other
    for (long j = i; j < n;) {
      if (ops[j] != Op::kKeep) {
        end = j + 1;
        ++j;
        continue;
      }
      long run = j;
      while (run < n && ops[run] == Op::kKeep) ++run;
      if (run >= n || run - j > 2 * context) break;
      j = run;
    }
    long stop = std::min(n, end + context);
    long a_len = ai[stop] - ai[start], b_len = bi[stop] - bi[start];
    out += "@@ -" + std::to_string(a_len ? ai[start] + 1 : ai[start]) + "," +
           std::to_string(a_len) + " +" + std::to_string(b_len ? bi[start] + 1 : bi[start]) + "," +
           std::to_string(b_len) + " @@\n";
    for (long k = start; k < stop; ++k) {
      if (ops[k] == Op::kKeep)
        emit_line(&out, ' ', a[ai[k]]);
      else if (ops[k] == Op::kDel)
        emit_line(&out, '-', a[ai[k]]);
      else
        emit_line(&out, '+', b[bi[k]]);
    }
    i = stop;
  }
  return out;
}

}  // namespace mcpcell::editors
