#include "tools/kvharness/free_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"

namespace quorumkv {

namespace {

// The first of the kernel's ephemeral ports (the local ports of outgoing
// connections and of bind to port 0); Linux's default if unreadable.
int FirstEphemeralPort() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (in >> low && low > 0) return low;
  return 32768;
}

// Binds a listening-capable socket to 127.0.0.1:`port` (0: the kernel
// picks); the port bound, or -1. The socket is appended to `sockets`.
int BindLoopback(int port, std::vector<int>& sockets) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockets.push_back(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return -1;
  }
  return ntohs(addr.sin_port);
}

}  // namespace

absl::StatusOr<std::vector<int>> PickFreePorts(int count) {
  // Below the ephemeral range, at random: a port the kernel hands out as
  // free is, until the node binds it, free for the kernel to give an
  // outgoing connection as its local port too (every client, node and test
  // makes such connections), and the node then cannot listen. A port below
  // that range only another bind can take. Each is bound to test it, and
  // held until all are, so they are distinct.
  const int below = FirstEphemeralPort();
  const int lowest = std::max(1024, below - 20000);
  std::vector<int> sockets, ports;
  std::mt19937 rng(std::random_device{}());
  for (int tries = 0; static_cast<int>(ports.size()) < count && tries < 100 * count; ++tries) {
    // With fewer than 1,000 ports below the range, the kernel picks.
    const int candidate =
        below - lowest < 1000 ? 0 : std::uniform_int_distribution<int>(lowest, below - 1)(rng);
    const int port = BindLoopback(candidate, sockets);
    if (port > 0) ports.push_back(port);
  }
  for (int fd : sockets) close(fd);
  if (static_cast<int>(ports.size()) < count) {
    return absl::InternalError(absl::StrCat(
        "cannot pick ", count, " free ports on 127.0.0.1 below ", below, ": ", strerror(errno)));
  }
  return ports;
}

}  // namespace quorumkv
