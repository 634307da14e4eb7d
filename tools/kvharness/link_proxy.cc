#include "tools/kvharness/link_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace quorumkv {

// One direction of a connection: bytes read from `in`, held until their
// release time, written to `out`.
struct LinkProxy::Direction {
  struct Chunk {
    absl::Time release;
    std::string bytes;
    size_t sent = 0;
  };
  int in = -1;
  int out = -1;
  std::string sender, receiver;
  std::deque<Chunk> chunks;
  size_t buffered = 0;
  absl::Time last_release = absl::InfinitePast();
  bool eof = false;         // `in` is closed for reading
  bool shut = false;        // `out` was shut down after the eof
  bool lost_bytes = false;  // a drop discarded some
};

struct LinkProxy::Connection {
  size_t link = 0;
  int down = -1;  // accepted from the sender of the link
  int up = -1;    // to the link's target
  bool connected = false;
  Direction forward;   // down -> up
  Direction backward;  // up -> down
  bool closed = false;
  // The epoll events registered for down and up (kRemoved: out of the set).
  uint32_t interest[2] = {0, 0};
};

namespace {

constexpr uint32_t kRemoved = UINT32_MAX;

// Closes `fd` with a TCP reset instead of a FIN.
void CloseWithReset(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

absl::StatusOr<sockaddr_in> ParseAddress(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  int port = 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (colon == std::string::npos || !absl::SimpleAtoi(host_port.substr(colon + 1), &port) ||
      inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 host:port: ", host_port));
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

}  // namespace

LinkProxy::LinkProxy(std::vector<ProxiedLink> links, uint64_t seed)
    : links_(std::move(links)), counters_(links_.size()), rng_(seed) {}

LinkProxy::~LinkProxy() {
  for (auto& c : connections_) Close(c.get(), /*reset=*/false);
  for (int fd : listeners_) close(fd);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

absl::StatusOr<std::unique_ptr<LinkProxy>> LinkProxy::Create(std::vector<ProxiedLink> links,
                                                             uint64_t seed) {
  std::unique_ptr<LinkProxy> proxy(new LinkProxy(std::move(links), seed));
  proxy->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (proxy->epoll_fd_ < 0) return absl::InternalError(absl::StrCat("epoll: ", strerror(errno)));
  for (size_t i = 0; i < proxy->links_.size(); ++i) {
    const ProxiedLink& link = proxy->links_[i];
    if (absl::StatusOr<sockaddr_in> target = ParseAddress(link.target); !target.ok()) {
      return target.status();
    }
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(link.listen_port));
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(fd, 128) != 0) {
      const std::string error = strerror(errno);
      if (fd >= 0) close(fd);
      return absl::UnavailableError(absl::StrCat("link ", link.from, "->", link.to,
                                                 ": cannot listen on 127.0.0.1:", link.listen_port,
                                                 ": ", error));
    }
    proxy->listeners_.push_back(fd);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;  // a listener: below the connection fds' tag
    epoll_ctl(proxy->epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  return proxy;
}

LinkFault LinkProxy::FaultOf(const std::string& from, const std::string& to) const {
  LinkFault merged;
  for (const auto& [key, fault] : faults_) {
    const bool from_matches = key.first == from || (key.first == "*" && from != kClientEndpoint);
    const bool to_matches = key.second == to || (key.second == "*" && to != kClientEndpoint);
    if (!from_matches || !to_matches) continue;
    merged.drop = merged.drop || fault.drop;
    merged.reset = merged.reset || fault.reset;
    merged.delay = std::max(merged.delay, fault.delay);
    merged.jitter = std::max(merged.jitter, fault.jitter);
  }
  return merged;
}

void LinkProxy::SetFaults(LinkFaults faults) {
  faults_ = std::move(faults);
  for (auto& c : connections_) {
    if (c->closed) continue;
    const ProxiedLink& link = links_[c->link];
    const bool reset = FaultOf(link.from, link.to).reset;
    const bool healed_loss = (c->forward.lost_bytes && !FaultOf(link.from, link.to).drop) ||
                             (c->backward.lost_bytes && !FaultOf(link.to, link.from).drop);
    if (reset || healed_loss) Close(c.get(), /*reset=*/true);
  }
}

void LinkProxy::Accept(size_t index) {
  const ProxiedLink& link = links_[index];
  for (;;) {
    const int down = accept4(listeners_[index], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (down < 0) return;
    ++counters_[index].connections;
    if (FaultOf(link.from, link.to).reset) {
      ++counters_[index].resets;
      CloseWithReset(down);
      continue;
    }
    const int up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const sockaddr_in target = *ParseAddress(link.target);
    const int one = 1;
    setsockopt(down, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (up < 0 || (connect(up, reinterpret_cast<const sockaddr*>(&target), sizeof(target)) != 0 &&
                   errno != EINPROGRESS)) {
      if (up >= 0) close(up);
      CloseWithReset(down);  // the target refused: so does the link
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->link = index;
    c->down = down;
    c->up = up;
    c->forward = Direction{.in = down, .out = up, .sender = link.from, .receiver = link.to};
    c->backward = Direction{.in = up, .out = down, .sender = link.to, .receiver = link.from};
    for (int fd : {down, up}) {
      epoll_event ev{};
      ev.data.u64 = static_cast<uint64_t>(fd) + links_.size();
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
      by_fd_[fd] = c.get();
    }
    connections_.push_back(std::move(c));
    UpdateInterest(connections_.back().get());
  }
}

void LinkProxy::Read(Connection* c, Direction* d) {
  char buffer[64 << 10];
  while (!d->eof && d->buffered < kMaxBufferedBytes) {
    const ssize_t n = recv(d->in, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) {
      Close(c, /*reset=*/true);
      return;
    }
    if (n == 0) {
      d->eof = true;
      return;
    }
    const LinkFault fault = FaultOf(d->sender, d->receiver);
    if (fault.drop) {
      counters_[c->link].bytes_dropped += n;
      d->lost_bytes = true;
      continue;
    }
    absl::Duration hold = fault.delay;
    if (fault.jitter > absl::ZeroDuration()) {
      std::uniform_int_distribution<int64_t> jitter(0, absl::ToInt64Microseconds(fault.jitter));
      hold += absl::Microseconds(jitter(rng_));
    }
    ssize_t sent = 0;
    if (hold == absl::ZeroDuration() && d->chunks.empty()) {
      // Nothing to wait for: straight on, queueing only what the socket
      // does not take now.
      sent = send(d->out, buffer, n, MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        Close(c, /*reset=*/true);
        return;
      }
      sent = std::max<ssize_t>(sent, 0);
      counters_[c->link].bytes_forwarded += sent;
    }
    if (sent < n) {
      // Never before an earlier chunk: TCP keeps order.
      const absl::Time release = std::max(absl::Now() + hold, d->last_release);
      d->last_release = release;
      d->chunks.push_back(Direction::Chunk{release, std::string(buffer + sent, n - sent)});
      d->buffered += n - sent;
    }
    // A short read drained the socket; the next readiness says when more came.
    if (n < static_cast<ssize_t>(sizeof(buffer))) return;
  }
}

void LinkProxy::Flush(Connection* c, Direction* d) {
  const absl::Time now = absl::Now();
  while (!d->chunks.empty() && d->chunks.front().release <= now) {
    Direction::Chunk& chunk = d->chunks.front();
    const ssize_t n = send(d->out, chunk.bytes.data() + chunk.sent, chunk.bytes.size() - chunk.sent,
                           MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) {
      Close(c, /*reset=*/true);
      return;
    }
    chunk.sent += n;
    counters_[c->link].bytes_forwarded += n;
    if (chunk.sent < chunk.bytes.size()) return;
    d->buffered -= chunk.bytes.size();
    d->chunks.pop_front();
  }
  if (d->eof && d->chunks.empty() && !d->shut) {
    shutdown(d->out, SHUT_WR);
    d->shut = true;
  }
}

void LinkProxy::UpdateInterest(Connection* c) {
  if (c->closed) return;
  const absl::Time now = absl::Now();
  auto wants = [&](int fd) {
    uint32_t events = 0;
    for (const Direction* d : {&c->forward, &c->backward}) {
      if (d->in == fd && !d->eof && d->buffered < kMaxBufferedBytes && c->connected) {
        events |= EPOLLIN;
      }
      if (d->out == fd && !d->chunks.empty() && d->chunks.front().release <= now) {
        events |= EPOLLOUT;
      }
    }
    if (fd == c->up && !c->connected) events |= EPOLLOUT;
    return events;
  };
  // A socket read to its end and shut for writing has nothing left to say;
  // left in the set it would report its hang-up on every wait.
  auto finished = [&](int fd) {
    for (const Direction* d : {&c->forward, &c->backward}) {
      if ((d->in == fd && !d->eof) || (d->out == fd && !d->shut)) return false;
    }
    return true;
  };
  for (int i = 0; i < 2; ++i) {
    const int fd = i == 0 ? c->down : c->up;
    if (c->interest[i] == kRemoved) continue;
    const uint32_t events = finished(fd) ? kRemoved : wants(fd);
    if (events == c->interest[i]) continue;  // one syscall saved per wake
    c->interest[i] = events;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = static_cast<uint64_t>(fd) + links_.size();
    epoll_ctl(epoll_fd_, events == kRemoved ? EPOLL_CTL_DEL : EPOLL_CTL_MOD, fd, &ev);
  }
}

void LinkProxy::Handle(Connection* c, int fd, uint32_t events) {
  if (fd == c->up && !c->connected) {
    int error = 0;
    socklen_t len = sizeof(error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      Close(c, /*reset=*/true);  // the target refused: so does the link
      return;
    }
    c->connected = true;
  }
  for (Direction* d : {&c->forward, &c->backward}) {
    if (!c->closed && d->in == fd && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) Read(c, d);
  }
  for (Direction* d : {&c->forward, &c->backward}) {
    if (!c->closed) Flush(c, d);
  }
  if (c->closed) return;
  const bool done = c->forward.shut && c->backward.shut;
  if (done) {
    Close(c, /*reset=*/false);
    return;
  }
  UpdateInterest(c);
}

void LinkProxy::Close(Connection* c, bool reset) {
  if (c->closed) return;
  c->closed = true;
  for (int fd : {c->down, c->up}) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    by_fd_.erase(fd);
    if (reset) {
      CloseWithReset(fd);
    } else {
      close(fd);
    }
  }
  if (reset) ++counters_[c->link].resets;
}

absl::Time LinkProxy::NextRelease() const {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& c : connections_) {
    if (c->closed) continue;
    for (const Direction* d : {&c->forward, &c->backward}) {
      if (!d->chunks.empty()) next = std::min(next, d->chunks.front().release);
    }
  }
  return next;
}

void LinkProxy::RunFor(absl::Duration timeout, int extra_fd) {
  const absl::Time end = absl::Now() + timeout;
  if (extra_fd >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = UINT64_MAX;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, extra_fd, &ev);
  }
  bool extra_ready = false;
  while (!extra_ready) {
    const absl::Time now = absl::Now();
    if (now >= end) break;
    const absl::Time wake = std::min(end, NextRelease());
    const int wait_ms = static_cast<int>(std::clamp<int64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(wake - now, absl::Milliseconds(1))), 0, 1000));
    epoll_event events[64];
    const int n = epoll_wait(epoll_fd_, events, 64, wait_ms);
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == UINT64_MAX) {
        extra_ready = true;
      } else if (tag < links_.size()) {
        Accept(tag);
      } else {
        const int fd = static_cast<int>(tag - links_.size());
        auto it = by_fd_.find(fd);
        if (it != by_fd_.end()) Handle(it->second, fd, events[i].events);
      }
    }
    // Held chunks whose time came: flush them.
    if (NextRelease() <= absl::Now()) {
      for (auto& c : connections_) {
        if (c->closed) continue;
        for (Direction* d : {&c->forward, &c->backward}) Flush(c.get(), d);
        UpdateInterest(c.get());
      }
    }
    if (by_fd_.size() < 2 * connections_.size()) {  // some closed
      connections_.erase(std::remove_if(connections_.begin(), connections_.end(),
                                        [](const auto& c) { return c->closed; }),
                         connections_.end());
    }
  }
  if (extra_fd >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, extra_fd, nullptr);
}

}  // namespace quorumkv
