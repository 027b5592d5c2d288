#include "exporter/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/basic_auth.h"
#include "exporter/tls_context.h"
#include "exporter/web_config.h"
#include "metrics/exporter_collectable.h"
#include "metrics/log.h"
#include "metrics/text.h"
#include "metrics/text_exposition.h"

namespace hostiso {

namespace {

// Smaller bodies go out as they are: gzip's header and the CPU are not
// worth it (errors, a small status page).
constexpr std::size_t kGzipThreshold = 1024;
constexpr char kExpositionType[] = "text/plain; version=0.0.4; charset=utf-8";

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  HeaderList headers;
  bool gzip = false;  // body is gzip-encoded
};

// Every connection is a file descriptor: a soft limit of 1024 (systemd's
// default) would refuse connections long before the worker threads run out.
// Raised to the hard limit, as Go programs such as node_exporter do.
void RaiseFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) {
    return;
  }
  lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 1 << 20);
  ::setrlimit(RLIMIT_NOFILE, &lim);
}

bool KernelHasIpv6() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace

namespace detail {

Expected<std::string> ToCivetListeningPort(const std::string& address) {
  using Result = Expected<std::string>;
  const std::string what = "--web.listen-address: ";
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Result::Error(what + "expected [host]:port, got '" + address + "'");
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  auto p = ParseUint(port);
  if (!p || *p == 0 || *p > 65535 || port.size() > 5) {
    return Result::Error(what + "invalid port '" + port + "' in '" + address +
                         "'");
  }
  if (host.empty()) return (KernelHasIpv6() ? "+" : "") + port;
  if (host.front() == '[' || host.back() == ']') {
    if (host.size() < 2 || host.front() != '[' || host.back() != ']') {
      return Result::Error(what + "unbalanced brackets in '" + address + "'");
    }
    const std::string v6 = host.substr(1, host.size() - 2);
    in6_addr a6{};
    if (::inet_pton(AF_INET6, v6.c_str(), &a6) != 1) {
      return Result::Error(what + "invalid IPv6 address '" + v6 + "'");
    }
    // "[::]" is every address of both families, as in Go (node_exporter);
    // CivetWeb's "[::]:P" would be IPv6 only.
    if (IN6_IS_ADDR_UNSPECIFIED(&a6)) return "+" + port;
    return host + ":" + port;
  }
  if (host == "localhost") host = "127.0.0.1";
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) != 1) {
    return Result::Error(what +
                         "expected an IP address (IPv4, [IPv6] or "
                         "localhost), got '" +
                         host + "'");
  }
  return host + ":" + port;
}

Expected<std::vector<std::string>> SystemdListenPorts() {
  using Result = Expected<std::vector<std::string>>;
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr) {
    return Result::Error(
        "--web.systemd-socket: no socket from systemd (LISTEN_PID/LISTEN_FDS "
        "unset; start through the hostiso-exporter.socket unit)");
  }
  auto p = ParseUint(pid);
  auto n = ParseUint(fds);
  if (!p || *p != static_cast<std::uint64_t>(::getpid())) {
    return Result::Error(
        "--web.systemd-socket: LISTEN_PID is not this process");
  }
  if (!n || *n == 0 || *n > 64) {
    return Result::Error("--web.systemd-socket: LISTEN_FDS is not 1-64");
  }
  std::vector<std::string> ports;
  constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START
  for (std::uint64_t i = 0; i < *n; ++i) {
    ports.push_back("fd:" + std::to_string(kFirstFd + i));
  }
  // Not for children (there are none, but the protocol asks for it).
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return ports;
}

bool AcceptsGzip(const char* accept_encoding) {
  if (accept_encoding == nullptr) return false;
  std::string_view rest(accept_encoding);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    auto semi = item.find(';');
    std::string_view coding = TrimSpace(item.substr(0, semi));
    if (coding.size() != 4 || strncasecmp(coding.data(), "gzip", 4) != 0) {
      continue;
    }
    if (semi == std::string_view::npos) return true;
    // "gzip;q=0" means: not gzip.
    std::string_view param = TrimSpace(item.substr(semi + 1));
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') &&
        param[1] == '=') {
      return std::strtod(std::string(param.substr(2)).c_str(), nullptr) > 0;
    }
    return true;
  }
  return false;
}

Expected<std::string> Gzip(const std::string& in) {
  z_stream z{};
  // 15 + 16: a gzip wrapper, not raw zlib. Level 1: a scrape is compressed
  // once and read once; speed matters more than the last few percent.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return Error("gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END)
    return Error("gzip: deflate returned " + std::to_string(rc));
  return out;
}

}  // namespace detail

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options,
       std::shared_ptr<prometheus::Collectable> metrics, LandingPage landing)
      : options_(options),
        metrics_(std::move(metrics)),
        exporter_(dynamic_cast<const ExporterCollectable*>(metrics_.get())),
        landing_(std::move(landing)) {}
  ~Impl() {
    if (ctx_ != nullptr) mg_stop(ctx_);
    detail::SetWebConfigStoreForMetrics(nullptr);
  }

  Expected<void> Start();

 private:
  static int OnBeginRequest(mg_connection* conn);
  static int OnExternalSslCtx(void** ssl_ctx, void* user_data);
  static int OnLogMessage(const mg_connection* conn, const char* message);

  Expected<void> LoadWebConfig();
  std::vector<std::string> CivetOptions(const std::string& ports) const;
  Response Handle(mg_connection* conn);
  Response Metrics(mg_connection* conn);
  static void MaybeGzip(mg_connection* conn, Response& r);
  bool Authorized(mg_connection* conn, const WebConfig& config);
  void Send(mg_connection* conn, const Response& r, bool head);

  const HttpServerOptions options_;
  std::shared_ptr<prometheus::Collectable> metrics_;
  // metrics_ when it is the exporter's (it serves its own text: ScrapeText).
  const ExporterCollectable* exporter_ = nullptr;
  LandingPage landing_;
  std::unique_ptr<WebConfigStore> store_;
  std::unique_ptr<TlsContext> tls_;
  BasicAuthenticator auth_;
  std::atomic<std::size_t> in_flight_{0};
  mg_context* ctx_ = nullptr;
};

Expected<void> HttpServer::Impl::LoadWebConfig() {
  if (options_.web_config_file.empty()) return Ok();
  // TLS cannot be switched on or off while the sockets are open: such a
  // change is a failed reload, and the last good config stays in force.
  auto started_with_tls = std::make_shared<std::optional<bool>>();
  auto build =
      [started_with_tls](
          const WebConfig& config) -> Expected<std::shared_ptr<const void>> {
    using R = Expected<std::shared_ptr<const void>>;
    if (!started_with_tls->has_value()) {
      *started_with_tls = config.tls_enabled;
    } else if (**started_with_tls != config.tls_enabled) {
      return R::Error(
          "web config: turning TLS on or off needs a restart of the exporter");
    }
    if (!config.tls_enabled) return std::shared_ptr<const void>();
    auto material = LoadTlsMaterial(config.tls);
    if (!material) return material.failure().WithContext("web config");
    return std::shared_ptr<const void>(*material);
  };
  auto store = WebConfigStore::Open(options_.web_config_file, build);
  if (!store) return store.failure();
  store_ = std::move(store).value();
  if (store_->Current()->config.tls_enabled) {
    auto tls = TlsContext::Create(store_.get());
    if (!tls) return tls.failure();
    tls_ = std::move(tls).value();
  }
  detail::SetWebConfigStoreForMetrics(store_.get());
  return Ok();
}

std::vector<std::string> HttpServer::Impl::CivetOptions(
    const std::string& ports) const {
  // Each connection holds a worker thread from accept until it closes
  // (CivetWeb 1.15 has no event loop): enough workers that idle or slow
  // clients do not keep a scrape waiting, and deadlines short enough that
  // they let go. The header deadline counts from the start of the request,
  // not per read, so trickling bytes does not extend it.
  return {
      "listening_ports",
      ports,
      "num_threads",
      std::to_string(options_.max_connections),
      "connection_queue",
      "64",
      "listen_backlog",
      "1024",
      "request_timeout_ms",
      std::to_string(options_.request_timeout_ms),
      "keep_alive_timeout_ms",
      std::to_string(options_.keep_alive_timeout_ms),
      "enable_keep_alive",
      "yes",
      "max_request_size",
      "16384",
      // Many small TLS records and error answers: without TCP_NODELAY,
      // Nagle holds the last segment until the client's delayed ACK (40 ms).
      "tcp_nodelay",
      "1",
      "decode_url",
      "yes",
  };
}

Expected<void> HttpServer::Impl::Start() {
  static std::once_flag init_once;
  std::call_once(init_once, [] {
    mg_init_library(MG_FEATURES_TLS);
    RaiseFileLimit();
  });
  HOSTISO_RETURN_IF_ERROR(LoadWebConfig());
  std::vector<std::string> entries;
  if (options_.systemd_socket) {
    // Served by CivetWeb through scripts/civetweb-patches/0001 ("fd:N").
    auto inherited = detail::SystemdListenPorts();
    if (!inherited) return inherited.failure();
    entries = *inherited;
  } else {
    for (const std::string& address : options_.listen_addresses) {
      auto civet = detail::ToCivetListeningPort(address);
      if (!civet) return civet.failure();
      entries.push_back(*civet);
    }
  }
  std::string ports;
  for (const std::string& e : entries) {
    if (!ports.empty()) ports += ",";
    ports += e + (tls_ ? "s" : "");
  }
  const std::vector<std::string> options = CivetOptions(ports);
  std::vector<const char*> argv;
  argv.reserve(options.size() + 1);
  for (const std::string& o : options) argv.push_back(o.c_str());
  argv.push_back(nullptr);

  mg_callbacks callbacks{};
  callbacks.begin_request = OnBeginRequest;
  callbacks.log_message = OnLogMessage;
  if (tls_) callbacks.external_ssl_ctx = OnExternalSslCtx;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = argv.data();
  char error_text[256] = {0};
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  ctx_ = mg_start2(&init, &error);
  if (ctx_ == nullptr) {
    return Error(
        std::string("cannot listen on ") + ports + ": " +
        (error_text[0] != '\0' ? error_text : "unknown CivetWeb error"));
  }
  return Ok();
}

int HttpServer::Impl::OnExternalSslCtx(void** ssl_ctx, void* user_data) {
  auto* self = static_cast<Impl*>(user_data);
  if (!self->tls_) return 0;
  *ssl_ctx = self->tls_->Get();
  return 1;  // configured here; CivetWeb must neither change nor free it
}

int HttpServer::Impl::OnLogMessage(const mg_connection* /*conn*/,
                                   const char* message) {
  log::Debug("civetweb", {{"msg", message != nullptr ? message : ""}});
  return 1;
}

int HttpServer::Impl::OnBeginRequest(mg_connection* conn) {
  auto* self = static_cast<Impl*>(mg_get_user_data(mg_get_context(conn)));
  const mg_request_info* req = mg_get_request_info(conn);
  const bool head = std::strcmp(req->request_method, "HEAD") == 0;
  std::shared_ptr<const WebConfigStore::Loaded> loaded;
  HeaderList extra;
  if (self->store_) {
    loaded = self->store_->Current();
    extra = loaded->config.headers;
  }
  Response r;
  if (loaded && !self->Authorized(conn, loaded->config)) {
    r.status = 401;
    r.body = "Unauthorized\n";
    r.headers.emplace_back("WWW-Authenticate", "Basic");
  } else {
    r = self->Handle(conn);
  }
  for (const auto& h : extra) r.headers.push_back(h);
  self->Send(conn, r, head);
  return r.status;
}

bool HttpServer::Impl::Authorized(mg_connection* conn,
                                  const WebConfig& config) {
  const AuthResult result = auth_.Check(config.basic_auth_users,
                                        mg_get_header(conn, "Authorization"));
  if (result == AuthResult::kOk) return true;
  static std::atomic<std::int64_t> last_log{0};
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  // One line per second at most: a client retrying in a loop must not
  // flood the log. The reason, never the password.
  if (last_log.exchange(now) != now) {
    log::Warn("unauthorized request",
              {{"client", mg_get_request_info(conn)->remote_addr},
               {"reason", AuthResultText(result)}});
  }
  return false;
}

Response HttpServer::Impl::Handle(mg_connection* conn) {
  const mg_request_info* req = mg_get_request_info(conn);
  const std::string method = req->request_method;
  Response r;
  if (method != "GET" && method != "HEAD") {
    r.status = 405;
    r.body = "Method Not Allowed\n";
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::string uri = req->local_uri != nullptr ? req->local_uri : "";
  if (uri == options_.telemetry_path) {
    if (method == "HEAD") {
      r.content_type = kExpositionType;  // no scrape for a HEAD
      return r;
    }
    return Metrics(conn);
  }
  if (uri == "/") {
    Page page = landing_(req->query_string != nullptr ? req->query_string : "");
    r.content_type = std::move(page.content_type);
    r.body = std::move(page.body);
    r.headers.emplace_back("Cache-Control", "no-store");
    MaybeGzip(conn, r);
    return r;
  }
  r.status = 404;
  r.body = "404 page not found\n";
  return r;
}

Response HttpServer::Impl::Metrics(mg_connection* conn) {
  Response r;
  // node_exporter's --web.max-requests: beyond the limit, 503 at once
  // rather than a queue of scrapes that all time out.
  const std::size_t running = in_flight_.fetch_add(1) + 1;
  struct Release {
    std::atomic<std::size_t>& n;
    ~Release() { n.fetch_sub(1); }
  } release{in_flight_};
  if (options_.max_requests > 0 && running > options_.max_requests) {
    r.status = 503;
    r.body = "Limit of concurrent requests reached (" +
             std::to_string(options_.max_requests) + "), try again later.\n";
    return r;
  }
  try {
    r.body = exporter_ != nullptr
                 ? exporter_->ScrapeText()
                 : TextExposition::ToString(metrics_->Collect());
  } catch (const std::exception& e) {
    log::Error("scrape failed", {{"err", e.what()}});
    r.status = 500;
    r.body = std::string("scrape failed: ") + e.what() + "\n";
    return r;
  }
  r.content_type = kExpositionType;
  MaybeGzip(conn, r);
  return r;
}

void HttpServer::Impl::MaybeGzip(mg_connection* conn, Response& r) {
  r.headers.emplace_back("Vary", "Accept-Encoding");
  if (r.body.size() >= kGzipThreshold &&
      detail::AcceptsGzip(mg_get_header(conn, "Accept-Encoding"))) {
    if (auto gz = detail::Gzip(r.body)) {
      r.body = std::move(*gz);
      r.gzip = true;
    }
  }
}

namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

// CivetWeb's own rule (should_keep_alive): the client's Connection header
// if any, else HTTP/1.1's default.
bool ClientKeepsAlive(mg_connection* conn) {
  if (const char* c = mg_get_header(conn, "Connection")) {
    return strcasestr(c, "keep-alive") != nullptr;
  }
  const char* version = mg_get_request_info(conn)->http_version;
  return version != nullptr && std::strcmp(version, "1.1") == 0;
}

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

}  // namespace

// One write for the status line, headers and body: CivetWeb's
// mg_response_header_* API sends each header line in a send() of its own,
// and the tiny segments cost a delayed-ACK round (40 ms) per scrape.
void HttpServer::Impl::Send(mg_connection* conn, const Response& r, bool head) {
  const bool keep_alive = ClientKeepsAlive(conn);
  if (!keep_alive) mg_disable_keep_alive(conn);
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    Reason(r.status) + "\r\nContent-Type: " + r.content_type +
                    "\r\n";
  if (r.gzip) out += "Content-Encoding: gzip\r\n";
  for (const auto& [name, value] : r.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  // A HEAD of the exposition has no body to measure: no Content-Length.
  if (!head || !r.body.empty()) {
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  out += "Date: " + HttpDate() + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n"
                    : "Connection: close\r\n\r\n";
  if (!head) out += r.body;
  mg_write(conn, out.data(), out.size());
}

HttpServer::~HttpServer() = default;

Expected<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options,
    std::shared_ptr<prometheus::Collectable> metrics,
    LandingPage landing_page) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>(options, std::move(metrics),
                                         std::move(landing_page));
  if (auto started = server->impl_->Start(); !started) return started.failure();
  return server;
}

}  // namespace hostiso
