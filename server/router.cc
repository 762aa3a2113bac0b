#include "server/router.h"

#include <map>

#include "server/url.h"

namespace kefu::server {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;  // "{name}"
  std::string param_name;
  std::unique_ptr<Node> rest;  // "{name*}", always a leaf
  std::string rest_name;
  std::vector<const Route*> routes;  // one per method

  const Route* ForMethod(std::string_view method) const {
    for (const Route* r : routes) {
      if (r->method == method) return r;
    }
    return nullptr;
  }
  // The route for `method` (HEAD falls back to GET); with an empty method, any route.
  const Route* Accept(std::string_view method) const;
};

namespace {

constexpr std::string_view kApiPrefix = "/api/v1/";

bool IsParamName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.size() <= 1) return segments;  // "/" has no segments
  std::string_view rest = path.substr(1);
  while (true) {
    std::size_t slash = rest.find('/');
    segments.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return segments;
}

}  // namespace

const Route* Router::Node::Accept(std::string_view method) const {
  if (method.empty()) return routes.empty() ? nullptr : routes.front();
  const Route* r = ForMethod(method);
  if (r == nullptr && method == "HEAD") r = ForMethod("GET");
  return r;
}

const Router::Node* Router::Find(const Node& node, const std::vector<std::string>& segments,
                                 std::size_t i, std::string_view method, Params& params) {
  if (i == segments.size()) {
    if (node.Accept(method) != nullptr) return &node;
    if (node.rest && node.rest->Accept(method) != nullptr) {
      params.emplace_back(node.rest_name, std::string());
      return node.rest.get();
    }
    return nullptr;
  }
  if (auto it = node.literals.find(segments[i]); it != node.literals.end()) {
    if (const Node* found = Find(*it->second, segments, i + 1, method, params)) return found;
  }
  if (node.param && !segments[i].empty()) {
    params.emplace_back(node.param_name, segments[i]);
    if (const Node* found = Find(*node.param, segments, i + 1, method, params)) return found;
    params.pop_back();
  }
  if (node.rest && node.rest->Accept(method) != nullptr) {
    std::string joined;
    for (std::size_t j = i; j < segments.size(); ++j) {
      if (j > i) joined.push_back('/');
      joined += segments[j];
    }
    params.emplace_back(node.rest_name, std::move(joined));
    return node.rest.get();
  }
  return nullptr;
}

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::Add(std::string method, std::string pattern, HttpHandler handler,
                 RouteOptions options) {
  AddRoute(std::move(method), std::move(pattern), std::move(handler), nullptr, std::move(options));
}

void Router::AddSync(std::string method, std::string pattern, SyncHttpHandler handler,
                     RouteOptions options) {
  AddRoute(std::move(method), std::move(pattern), nullptr, std::move(handler), std::move(options));
}

void Router::AddRoute(std::string method, std::string pattern, HttpHandler handler,
                      SyncHttpHandler sync_handler, RouteOptions options) {
  auto fail = [&](std::string_view why) {
    if (status_.ok())
      status_ = InvalidArgument("route " + method + " " + pattern + ": " + std::string(why));
  };
  if (method.empty()) return fail("empty method");
  if (!handler && !sync_handler) return fail("no handler");
  if (pattern.empty() || pattern[0] != '/') return fail("pattern must start with '/'");

  Node* node = root_.get();
  std::vector<std::string_view> segments = SplitPath(pattern);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    std::string_view seg = segments[i];
    if (!seg.empty() && seg.front() == '{') {
      if (seg.back() != '}') return fail("unclosed '{'");
      std::string_view name = seg.substr(1, seg.size() - 2);
      bool rest = !name.empty() && name.back() == '*';
      if (rest) name.remove_suffix(1);
      if (!IsParamName(name)) return fail("bad parameter name");
      std::unique_ptr<Node>& child = rest ? node->rest : node->param;
      std::string& child_name = rest ? node->rest_name : node->param_name;
      if (rest && i + 1 != segments.size()) return fail("{name*} must be the last segment");
      if (child && child_name != name) return fail("conflicting parameter name at this position");
      if (!child) {
        child = std::make_unique<Node>();
        child_name = std::string(name);
      }
      node = child.get();
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) return fail("stray brace");
      auto it = node->literals.find(seg);
      if (it == node->literals.end()) {
        it = node->literals.emplace(std::string(seg), std::make_unique<Node>()).first;
      }
      node = it->second.get();
    }
  }
  if (node->ForMethod(method) != nullptr) return fail("registered twice");

  auto route = std::make_unique<Route>();
  route->index = routes_.size();
  route->method = std::move(method);
  route->authenticated = options.authenticated.value_or(pattern.starts_with(kApiPrefix));
  route->pattern = std::move(pattern);
  route->handler = std::move(handler);
  route->sync_handler = std::move(sync_handler);
  route->role = std::move(options.role);
  node->routes.push_back(route.get());
  routes_.push_back(std::move(route));
}

RouteMatch Router::Match(std::string_view method, std::string_view raw_path) const {
  RouteMatch match;
  if (raw_path.empty() || raw_path[0] != '/') {
    match.kind = RouteMatch::Kind::kBadPath;
    return match;
  }
  std::vector<std::string> segments;
  for (std::string_view raw : SplitPath(raw_path)) {
    Result<std::string> decoded = PercentDecode(raw);
    if (!decoded.ok()) {
      match.kind = RouteMatch::Kind::kBadPath;
      return match;
    }
    segments.push_back(std::move(decoded).value());
  }

  if (const Node* node = Find(*root_, segments, 0, method, match.params)) {
    match.kind = RouteMatch::Kind::kFound;
    match.route = node->Accept(method);
    return match;
  }
  match.params.clear();
  const Node* node = Find(*root_, segments, 0, std::string_view(), match.params);
  match.params.clear();
  if (node == nullptr) {
    match.kind = RouteMatch::Kind::kNotFound;
    return match;
  }
  match.kind = RouteMatch::Kind::kMethodNotAllowed;
  for (const Route* r : node->routes) {
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += r->method;
  }
  return match;
}

}  // namespace kefu::server
