#include "exporter/http_server.h"

#include <CivetServer.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "metrics/log.h"
#include "metrics/text_exposition.h"

namespace hostiso {

class HttpServer::Handlers : public CivetHandler {
 public:
  Handlers(std::string telemetry_path,
           std::shared_ptr<prometheus::Collectable> metrics,
           LandingPage landing)
      : telemetry_path_(std::move(telemetry_path)),
        metrics_(std::move(metrics)),
        landing_(std::move(landing)) {}

  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    const mg_request_info* req = mg_get_request_info(conn);
    std::string uri = req->local_uri != nullptr ? req->local_uri : "";
    if (uri == telemetry_path_) {
      ServeMetrics(conn);
    } else if (uri == "/") {
      Reply(conn, 200, "text/html; charset=utf-8", landing_());
    } else {
      Reply(conn, 404, "text/plain; charset=utf-8", "404 page not found\n");
    }
    return true;
  }

  bool handleHead(CivetServer* server, mg_connection* conn) override {
    return handleGet(server, conn);
  }

 private:
  void ServeMetrics(mg_connection* conn) {
    std::string body;
    try {
      body = TextExposition::ToString(metrics_->Collect());
    } catch (const std::exception& e) {
      log::Error("scrape failed", {{"err", e.what()}});
      Reply(conn, 500, "text/plain; charset=utf-8",
            std::string("scrape failed: ") + e.what() + "\n");
      return;
    }
    Reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", body);
  }

  static void Reply(mg_connection* conn, int status, const char* content_type,
                    const std::string& body) {
    const char* reason = status == 200   ? "OK"
                         : status == 404 ? "Not Found"
                                         : "Internal Server Error";
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n",
              status, reason, content_type, body.size());
    mg_write(conn, body.data(), body.size());
  }

  std::string telemetry_path_;
  std::shared_ptr<prometheus::Collectable> metrics_;
  LandingPage landing_;
};

namespace {

// CivetWeb reports a failed bind only as "null context"; binding a probe
// socket first gives the operator the kernel's reason (EADDRINUSE, EACCES).
std::string ProbeBind(const std::string& listening_port) {
  std::string host = "0.0.0.0";
  std::string port = listening_port;
  bool v6 = false;
  if (auto colon = listening_port.rfind(':'); colon != std::string::npos) {
    host = listening_port.substr(0, colon);
    port = listening_port.substr(colon + 1);
    if (!host.empty() && host.front() == '[') {
      v6 = true;
      host = host.substr(1, host.size() - 2);
    }
  }
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc = 0;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(std::stoi(port)));
    ::inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
    ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  std::string error = rc == 0 ? "" : std::strerror(errno);
  ::close(fd);
  return error;
}

}  // namespace

HttpServer::~HttpServer() {
  if (server_) server_->close();
}

Expected<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& civet_listening_port, const std::string& telemetry_path,
    std::shared_ptr<prometheus::Collectable> metrics,
    LandingPage landing_page) {
  using Result = Expected<std::unique_ptr<HttpServer>>;
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->handlers_ = std::make_unique<Handlers>(
      telemetry_path, std::move(metrics), std::move(landing_page));
  std::vector<std::string> options = {
      "listening_ports",    civet_listening_port,
      "num_threads",        "4",
      "request_timeout_ms", "10000"};
  if (std::string error = ProbeBind(civet_listening_port); !error.empty()) {
    return Result::Error("cannot listen on " + civet_listening_port + ": " +
                         error);
  }
  try {
    server->server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    return Result::Error(std::string("cannot listen on ") +
                         civet_listening_port + ": " + e.what() +
                         " (is the port already in use?)");
  }
  // "/" matches every URI; the handler answers 404 for anything unknown.
  server->server_->addHandler("/", server->handlers_.get());
  return server;
}

}  // namespace hostiso
