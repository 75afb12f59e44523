#include "http/query.hpp"

#include <boost/url/parse.hpp>

#include "app/errors.hpp"

namespace tk::http {

namespace {
Error bad(std::string_view name, std::string_view reason) {
  return Error{app::Errc::invalid_field, {{"field", name}, {"reason", reason}}};
}
}  // namespace

Result<std::optional<std::string>> query_param(std::string_view target, std::string_view name,
                                               std::size_t max_len) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return bad(name, "malformed query string");
  // Form encoding ('+' is a space), as browsers' URLSearchParams writes it.
  auto params = u->params(boost::urls::encoding_opts(true));
  auto it = params.find(name);
  if (it == params.end()) return std::optional<std::string>();
  if (params.count(name) > 1) return bad(name, "given more than once");
  auto p = *it;
  if (!p.has_value || p.value.empty()) return bad(name, "empty");
  if (p.value.size() > max_len) return bad(name, "too long");
  return std::optional<std::string>(std::move(p.value));
}

}  // namespace tk::http
