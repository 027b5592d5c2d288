#include "metrics/libvirt/domain_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <memory>
#include <mutex>
#include <vector>

#include "metrics/text.h"

namespace hostiso {
namespace {

// libxml2 must be initialised once before threads use it (xmlInitParser's
// documentation); libvirt does the same in-process, which is harmless.
void InitXml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

struct DocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct CtxDeleter {
  void operator()(xmlXPathContext* c) const { xmlXPathFreeContext(c); }
};
struct ObjDeleter {
  void operator()(xmlXPathObject* o) const { xmlXPathFreeObject(o); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;
using CtxPtr = std::unique_ptr<xmlXPathContext, CtxDeleter>;
using ObjPtr = std::unique_ptr<xmlXPathObject, ObjDeleter>;

const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

Expected<DocPtr> ReadDoc(std::string_view xml, const char* what) {
  InitXml();
  if (xml.size() > static_cast<std::size_t>(INT32_MAX))
    return Expected<DocPtr>::Error(std::string(what) + ": document too large");
  // NONET: never fetch external entities; NOERROR/NOWARNING: errors are
  // reported through the return value, not printed on stderr.
  xmlDoc* doc = xmlReadMemory(
      xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) {
    const xmlError* err = xmlGetLastError();
    std::string msg = std::string(what) + ": malformed XML";
    if (err != nullptr && err->message != nullptr)
      msg += ": " + std::string(TrimSpace(err->message));
    return Expected<DocPtr>::Error(msg);
  }
  return DocPtr(doc);
}

CtxPtr MakeContext(xmlDoc* doc) {
  CtxPtr ctx(xmlXPathNewContext(doc));
  if (ctx) {
    std::string ns(kNovaMetadataNamespace);
    xmlXPathRegisterNs(ctx.get(), X("nova"), X(ns.c_str()));
  }
  return ctx;
}

std::vector<xmlNode*> Nodes(xmlXPathContext* ctx, const char* expr,
                            xmlNode* at = nullptr) {
  std::vector<xmlNode*> out;
  if (ctx == nullptr) return out;
  ObjPtr obj(at != nullptr ? xmlXPathNodeEval(at, X(expr), ctx)
                           : xmlXPathEvalExpression(X(expr), ctx));
  if (!obj || obj->type != XPATH_NODESET || obj->nodesetval == nullptr)
    return out;
  for (int i = 0; i < obj->nodesetval->nodeNr; ++i)
    out.push_back(obj->nodesetval->nodeTab[i]);
  return out;
}

xmlNode* First(xmlXPathContext* ctx, const char* expr, xmlNode* at = nullptr) {
  auto n = Nodes(ctx, expr, at);
  return n.empty() ? nullptr : n.front();
}

std::string Text(xmlNode* node) {
  if (node == nullptr) return "";
  xmlChar* c = xmlNodeGetContent(node);
  if (c == nullptr) return "";
  std::string s(TrimSpace(reinterpret_cast<const char*>(c)));
  xmlFree(c);
  return s;
}

std::optional<std::string> Attr(xmlNode* node, const char* name) {
  if (node == nullptr) return std::nullopt;
  xmlChar* c = xmlGetProp(node, X(name));
  if (c == nullptr) return std::nullopt;
  std::string s(TrimSpace(reinterpret_cast<const char*>(c)));
  xmlFree(c);
  return s;
}

std::optional<int> IntAttr(xmlNode* node, const char* name) {
  auto a = Attr(node, name);
  if (!a) return std::nullopt;
  auto v = ParseUint(*a);
  if (!v || *v > 0x7fffffffULL) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<CpuSet> CpusetAttr(xmlNode* node) {
  auto a = Attr(node, "cpuset");
  if (!a) return std::nullopt;
  // libvirt cpusets accept "^N" exclusions like Nova's syntax.
  auto set = ParseCpuList(*a, CpuListSyntax::kNova);
  if (!set) return std::nullopt;
  return *set;
}

NovaMetadata NovaFrom(xmlXPathContext* ctx, xmlNode* instance) {
  NovaMetadata m;
  if (instance == nullptr) return m;
  m.present = true;
  m.instance_name = Text(First(ctx, "nova:name", instance));
  m.flavor = Attr(First(ctx, "nova:flavor", instance), "name").value_or("");
  xmlNode* project = First(ctx, "nova:owner/nova:project", instance);
  m.project_id = Attr(project, "uuid").value_or("");
  m.project_name = Text(project);
  return m;
}

std::optional<std::uint64_t> MemoryBytes(xmlXPathContext* ctx,
                                         const char* expr) {
  xmlNode* n = First(ctx, expr);
  if (n == nullptr) return std::nullopt;
  auto bytes = detail::ScaledToBytes(Text(n), Attr(n, "unit").value_or("KiB"));
  if (!bytes) return std::nullopt;
  return *bytes;
}

// <numatune><memory nodeset=...> and the <cpu><numa> cells. A nodeset has
// libvirt's bitmap syntax ("0-1,^1", virBitmapParse), the CPU list syntax
// with exclusions; an empty or malformed one is left out.
void ParseNuma(xmlXPathContext* ctx, DomainXml& d) {
  if (auto nodeset = Attr(First(ctx, "/domain/numatune/memory"), "nodeset")) {
    auto nodes = ParseCpuList(*nodeset, CpuListSyntax::kNova);
    if (nodes && !nodes->Empty()) d.numatune_nodes = *nodes;
  }
  d.numa_cells = static_cast<int>(Nodes(ctx, "/domain/cpu/numa/cell").size());
}

}  // namespace

namespace detail {

Expected<std::uint64_t> ScaledToBytes(std::string_view value,
                                      std::string_view unit) {
  auto v = ParseUint(TrimSpace(value));
  if (!v)
    return Expected<std::uint64_t>::Error("expected an integer, got \"" +
                                          std::string(value) + "\"");
  // libvirt's virScaleInteger: single letters and *iB are powers of 1024,
  // *B (KB, MB...) powers of 1000 (docs/formatdomain.rst "memory").
  std::string u = ToLower(TrimSpace(unit));
  std::uint64_t mult = 0;
  if (u.empty() || u == "b" || u == "bytes")
    mult = 1;
  else if (u == "k" || u == "kib")
    mult = 1ULL << 10;
  else if (u == "kb")
    mult = 1000ULL;
  else if (u == "m" || u == "mib")
    mult = 1ULL << 20;
  else if (u == "mb")
    mult = 1000ULL * 1000;
  else if (u == "g" || u == "gib")
    mult = 1ULL << 30;
  else if (u == "gb")
    mult = 1000ULL * 1000 * 1000;
  else if (u == "t" || u == "tib")
    mult = 1ULL << 40;
  else if (u == "tb")
    mult = 1000ULL * 1000 * 1000 * 1000;
  else
    return Expected<std::uint64_t>::Error("unknown unit \"" +
                                          std::string(unit) + "\"");
  if (*v > UINT64_MAX / mult)
    return Expected<std::uint64_t>::Error("value out of range");
  return *v * mult;
}

}  // namespace detail

Expected<DomainXml> ParseDomainXml(std::string_view xml) {
  auto doc = ReadDoc(xml, "domain XML");
  if (!doc) return doc.failure();
  xmlNode* root = xmlDocGetRootElement(doc->get());
  if (root == nullptr || xmlStrcmp(root->name, X("domain")) != 0)
    return Expected<DomainXml>::Error(
        "domain XML: root element is not <domain>");
  CtxPtr ctx = MakeContext(doc->get());
  if (!ctx) return Expected<DomainXml>::Error("domain XML: out of memory");

  DomainXml d;
  d.name = Text(First(ctx.get(), "/domain/name"));
  d.uuid = Text(First(ctx.get(), "/domain/uuid"));
  d.memory_bytes =
      MemoryBytes(ctx.get(), "/domain/currentMemory")
          .value_or(MemoryBytes(ctx.get(), "/domain/memory").value_or(0));
  if (xmlNode* vcpu = First(ctx.get(), "/domain/vcpu")) {
    if (auto cur = IntAttr(vcpu, "current")) {
      d.vcpus = *cur;
    } else if (auto n = ParseUint(Text(vcpu)); n && *n <= 100000) {
      d.vcpus = static_cast<int>(*n);
    }
  }
  d.hugepages_backed =
      First(ctx.get(), "/domain/memoryBacking/hugepages") != nullptr;
  if (auto n = ParseUint(Text(First(ctx.get(), "/domain/iothreads")));
      n && *n <= 100000)
    d.iothreads = static_cast<int>(*n);
  d.nova =
      NovaFrom(ctx.get(), First(ctx.get(), "/domain/metadata/nova:instance"));
  for (xmlNode* pin : Nodes(ctx.get(), "/domain/cputune/vcpupin")) {
    auto vcpu = IntAttr(pin, "vcpu");
    auto set = CpusetAttr(pin);
    if (vcpu && set) d.vcpupin[*vcpu] = *set;
  }
  if (xmlNode* pin = First(ctx.get(), "/domain/cputune/emulatorpin"))
    d.emulatorpin = CpusetAttr(pin);
  for (xmlNode* pin : Nodes(ctx.get(), "/domain/cputune/iothreadpin")) {
    auto id = IntAttr(pin, "iothread");
    auto set = CpusetAttr(pin);
    if (id && set) d.iothreadpin[*id] = *set;
  }
  ParseNuma(ctx.get(), d);
  return d;
}

Expected<NovaMetadata> ParseNovaMetadata(std::string_view xml) {
  auto doc = ReadDoc(xml, "nova metadata");
  if (!doc) return doc.failure();
  CtxPtr ctx = MakeContext(doc->get());
  xmlNode* instance = First(ctx.get(), "/nova:instance");
  if (instance == nullptr)
    return Expected<NovaMetadata>::Error(
        "nova metadata: no <instance> element in namespace " +
        std::string(kNovaMetadataNamespace));
  return NovaFrom(ctx.get(), instance);
}

std::string DeriveCpuPolicy(const DomainXml& dom) {
  if (dom.vcpus <= 0) return "";
  for (int i = 0; i < dom.vcpus; ++i) {
    auto it = dom.vcpupin.find(i);
    if (it == dom.vcpupin.end() || it->second.Count() != 1) return "shared";
  }
  return "dedicated";
}

Expected<DomStatus> ParseDomStatus(std::string_view xml) {
  auto doc = ReadDoc(xml, "domain status XML");
  if (!doc) return doc.failure();
  xmlNode* root = xmlDocGetRootElement(doc->get());
  if (root == nullptr || xmlStrcmp(root->name, X("domstatus")) != 0)
    return Expected<DomStatus>::Error(
        "domain status XML: root element is not <domstatus>");
  CtxPtr ctx = MakeContext(doc->get());
  DomStatus st;
  auto pid = IntAttr(root, "pid");
  if (!pid || *pid <= 0)
    return Expected<DomStatus>::Error("domain status XML: no pid attribute");
  st.pid = static_cast<pid_t>(*pid);
  for (xmlNode* v : Nodes(ctx.get(), "/domstatus/vcpus/vcpu")) {
    auto id = IntAttr(v, "id");
    auto tid = IntAttr(v, "pid");
    if (id && tid && *tid > 0) st.vcpu_tids[*id] = static_cast<pid_t>(*tid);
  }
  return st;
}

}  // namespace hostiso
