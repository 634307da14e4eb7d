// The HTTP endpoint of a node's metrics: GET /metrics on a port of its own
// (kvnode --metrics-listen), apart from the gRPC port, so that a scraper
// needs no client certificate and a slow scrape never queues behind client
// calls. One thread serves it, one scrape at a time.
#ifndef QUORUMKV_SERVER_METRICS_ENDPOINT_H_
#define QUORUMKV_SERVER_METRICS_ENDPOINT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace quorumkv {

class MetricsEndpoint {
 public:
  // Listens on `address` ("HOST:PORT"; port 0: one the kernel picks) and
  // answers GET /metrics with `render()` (called on the endpoint's thread).
  // UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, std::function<std::string()> render);
  // Stops serving and joins the thread.
  ~MetricsEndpoint();

  int port() const { return port_; }

 private:
  MetricsEndpoint();

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> returned_{false};  // the listening loop ended
  int port_ = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_METRICS_ENDPOINT_H_
