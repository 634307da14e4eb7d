// The fault-injecting TCP proxy of kvharness: one listening port per
// directed link (node to node, and client to node), each forwarding to the
// link's destination, so that a fault can hit one direction and not the
// other.
//
// A fault applies to the bytes travelling from one endpoint to another, on
// whichever connection carries them: `drop n1->n2` loses n1's requests to
// n2 (on link n1->n2) and n1's answers to n2's requests (on link n2->n1),
// as a network that loses every packet from n1 to n2 would.
//   drop    the bytes vanish; the connection stays open, so the sender sees
//           no error, only silence. A connection that lost bytes is reset
//           when the drop ends (its stream is broken), and the endpoints
//           connect again.
//   delay   each byte is held `delay` plus up to `jitter` (uniform) before
//           it is sent on; order within a connection is kept.
//   reset   connections of the link are refused (accepted, then reset) and
//           the open ones reset: connection refused, connection reset.
// Memory is bounded: a connection buffers at most kMaxBufferedBytes per
// direction, and stops reading while it holds that much.
#ifndef QUORUMKV_TOOLS_KVHARNESS_LINK_PROXY_H_
#define QUORUMKV_TOOLS_KVHARNESS_LINK_PROXY_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/kvharness/links.h"

namespace quorumkv {

// Bytes and connections of one link since the proxy started.
struct LinkCounters {
  uint64_t connections = 0;
  uint64_t bytes_forwarded = 0;
  uint64_t bytes_dropped = 0;
  uint64_t resets = 0;
};

// Not thread-safe: one thread calls everything (RunFor, SetFaults).
class LinkProxy {
 public:
  static constexpr size_t kMaxBufferedBytes = 4 << 20;

  // Binds every link's port. `seed` drives the jitter.
  static absl::StatusOr<std::unique_ptr<LinkProxy>> Create(std::vector<ProxiedLink> links,
                                                           uint64_t seed);
  ~LinkProxy();

  // Applies `faults` at once: new resets reset open connections, ended
  // drops reset the connections that lost bytes.
  void SetFaults(LinkFaults faults);
  // Accepts, forwards and applies faults for up to `timeout`; returns
  // early when `extra_fd` (if >= 0) becomes readable.
  void RunFor(absl::Duration timeout, int extra_fd = -1);

  const std::vector<ProxiedLink>& links() const { return links_; }
  LinkCounters counters(size_t link) const { return counters_[link]; }

 private:
  struct Connection;
  struct Direction;

  explicit LinkProxy(std::vector<ProxiedLink> links, uint64_t seed);
  void Accept(size_t link);
  void Handle(Connection* c, int fd, uint32_t events);
  void Read(Connection* c, Direction* d);
  void Flush(Connection* c, Direction* d);
  void UpdateInterest(Connection* c);
  void Close(Connection* c, bool reset);
  // A fault is "everyone" when from or to is "*".
  LinkFault FaultOf(const std::string& from, const std::string& to) const;
  absl::Time NextRelease() const;

  std::vector<ProxiedLink> links_;
  std::vector<int> listeners_;
  std::vector<LinkCounters> counters_;
  int epoll_fd_ = -1;
  LinkFaults faults_;
  std::mt19937_64 rng_;
  std::map<int, Connection*> by_fd_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_LINK_PROXY_H_
