#include "server/metrics_endpoint.h"

#include <httplib.h>

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace quorumkv {

MetricsEndpoint::MetricsEndpoint() : server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, std::function<std::string()> render) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-listen ", address, " is not HOST:PORT"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  httplib::Server& server = *endpoint->server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(1); };
  server.Get("/metrics",
             [render = std::move(render)](const httplib::Request&, httplib::Response& response) {
               response.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
             });
  if (port == 0) {
    endpoint->port_ = server.bind_to_any_port(host);
  } else if (server.bind_to_port(host, port)) {
    endpoint->port_ = port;
  }
  if (endpoint->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for metrics on ", address, " (address in use?)"));
  }
  endpoint->thread_ = std::thread([&server, returned = &endpoint->returned_] {
    server.listen_after_bind();
    returned->store(true);
  });
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() {
  // Never listening (Start failed to bind): no thread would end the wait
  // below, and there is nothing to stop.
  if (!thread_.joinable()) return;
  // stop() reaches the listening loop only once it runs: wait until it
  // does, or has returned (a failed listen).
  while (!server_->is_running() && !returned_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace quorumkv
