// The relay's filter chain, listed in client-to-server order; server-to-client runs it in reverse,
// so the filter listed last sees server output first. One line per filter.
#include "commands/chain.h"
#include "pins/pin_filter.h"
#include "scan/scan_filter.h"

namespace mcpcell {

std::unique_ptr<FilterChain> build_chain(const ChainConfig& config, Status* status) {
  (void)config;
  auto chain = std::make_unique<FilterChain>();
  if (auto f = make_pin_filter(config, status)) chain->add(std::move(f)); else return nullptr;
  if (auto f = make_scan_filter(config, status)) chain->add(std::move(f)); else return nullptr;
  *status = Status::Ok();
  return chain;
}

}  // namespace mcpcell
