// The process that runs a cluster's LinkProxy: `kvharness proxy --dir D`,
// started by `kvharness up` (detached, like the nodes) and stopped by
// `down`. It serves the links of D/proxy/links and applies the faults of
// D/faults/links when it starts and on every SIGHUP, then writes the faults'
// generation to D/proxy/applied: kvharness waits for that before it says a
// fault is in place. SIGTERM stops it.
#ifndef QUORUMKV_TOOLS_KVHARNESS_PROXY_DAEMON_H_
#define QUORUMKV_TOOLS_KVHARNESS_PROXY_DAEMON_H_

#include <string>

namespace quorumkv {

// Returns the process's exit code.
int RunProxyDaemon(const std::string& dir);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_PROXY_DAEMON_H_
