#include "exporter/http_server.h"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "metrics/log.h"

namespace hostiso {

class HttpServer::Handlers : public CivetHandler {
 public:
  Handlers(std::string telemetry_path, std::shared_ptr<prometheus::Collectable> metrics,
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
      std::ostringstream out;
      prometheus::TextSerializer().Serialize(out, metrics_->Collect());
      body = out.str();
    } catch (const std::exception& e) {
      log::Error("scrape failed", {{"err", e.what()}});
      Reply(conn, 500, "text/plain; charset=utf-8", std::string("scrape failed: ") + e.what() + "\n");
      return;
    }
    Reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", body);
  }

  static void Reply(mg_connection* conn, int status, const char* content_type,
                    const std::string& body) {
    const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Internal Server Error";
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

HttpServer::~HttpServer() {
  if (server_) server_->close();
}

Expected<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& civet_listening_port, const std::string& telemetry_path,
    std::shared_ptr<prometheus::Collectable> metrics, LandingPage landing_page) {
  using Result = Expected<std::unique_ptr<HttpServer>>;
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->handlers_ =
      std::make_unique<Handlers>(telemetry_path, std::move(metrics), std::move(landing_page));
  std::vector<std::string> options = {"listening_ports", civet_listening_port,
                                      "num_threads", "4",
                                      "request_timeout_ms", "10000"};
  try {
    server->server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    return Result::Error(std::string("cannot listen on ") + civet_listening_port + ": " + e.what() +
                         " (is the port already in use?)");
  }
  // "/" matches every URI; the handler answers 404 for anything unknown.
  server->server_->addHandler("/", server->handlers_.get());
  return server;
}

}  // namespace hostiso
