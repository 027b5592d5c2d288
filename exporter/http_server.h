#pragma once

#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <string>

#include "metrics/expected.h"

class CivetServer;

namespace hostiso {

// Serves the landing page at "/", the exposition at the telemetry path and
// 404 elsewhere, on CivetWeb (the server prometheus-cpp itself uses).
// Concurrent scrapes are safe: the collectable serializes them.
class HttpServer {
 public:
  using LandingPage = std::function<std::string()>;

  ~HttpServer();
  // Starts listening. Errors (busy port, bad address) are returned, never
  // thrown.
  static Expected<std::unique_ptr<HttpServer>> Start(
      const std::string& civet_listening_port,
      const std::string& telemetry_path,
      std::shared_ptr<prometheus::Collectable> metrics,
      LandingPage landing_page);

 private:
  class Handlers;
  HttpServer() = default;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<CivetServer> server_;
};

}  // namespace hostiso
