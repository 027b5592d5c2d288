#pragma once

#include <prometheus/collectable.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

struct mg_context;

namespace hostiso {

struct HttpServerOptions {
  // Validated --web.listen-address values ("[host]:port").
  std::vector<std::string> listen_addresses = {":9933"};
  std::string telemetry_path = "/metrics";
  // --web.systemd-socket: serve the sockets systemd passes (LISTEN_FDS)
  // instead of listen_addresses.
  bool systemd_socket = false;
  // --web.config.file; empty: plain HTTP, no authentication.
  std::string web_config_file;
  // Scrapes served at once; more get 503 at once (node_exporter's
  // --web.max-requests). 0: no limit.
  std::size_t max_requests = 40;
  // Connections served at once (CivetWeb worker threads). Each idle or slow
  // client holds one until its deadline; more wait in the kernel's backlog.
  std::size_t max_connections = 1024;
  // Deadline for a request's headers (and TLS handshake) to arrive, and for
  // an idle keep-alive connection.
  int request_timeout_ms = 5000;
  int keep_alive_timeout_ms = 5000;
};

// Serves the status page at "/", the exposition at the telemetry path and
// 404 elsewhere, over HTTP or HTTPS (--web.config.file), on CivetWeb built
// from Debian's source (scripts/build-civetweb.sh). Concurrent scrapes are
// safe: the collectable serializes them.
class HttpServer {
 public:
  struct Page {
    std::string content_type = "text/html; charset=utf-8";
    std::string body;
  };
  // Renders "/" for the request's query string ("" when none), behind the
  // same authentication as the exposition.
  using LandingPage = std::function<Page(std::string_view query)>;

  ~HttpServer();
  // Starts listening on every address. Errors (busy port, bad address,
  // broken web config) are returned, never thrown.
  static Expected<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options,
      std::shared_ptr<prometheus::Collectable> metrics,
      LandingPage landing_page);

 private:
  class Impl;
  HttpServer() = default;
  std::unique_ptr<Impl> impl_;
};

namespace detail {
// "host:port" / "[v6]:port" / ":port" checked with inet_pton; "localhost"
// is 127.0.0.1. Returns CivetWeb's listening_ports entry (without the TLS
// suffix): "127.0.0.1:9933", "[::1]:9933"; for "[::]" and an empty host
// "+9933" (every IPv4 and IPv6 address; an empty host falls back to "9933"
// when the kernel has no IPv6).
Expected<std::string> ToCivetListeningPort(const std::string& address);
// CivetWeb listening_ports entries ("fd:3", ...) for the sockets systemd
// passed (sd_listen_fds(3) protocol: LISTEN_PID, LISTEN_FDS, first fd 3).
Expected<std::vector<std::string>> SystemdListenPorts();
// Whether the client accepts gzip (Accept-Encoding, q-values honoured).
bool AcceptsGzip(const char* accept_encoding);
// gzip of `in` (zlib, fastest level), or the zlib call that failed (the
// body is then sent uncompressed).
Expected<std::string> Gzip(const std::string& in);
}  // namespace detail

}  // namespace hostiso
