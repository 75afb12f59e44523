#include "infra/amqp/endpoint.hpp"

#include <amqp.h>

#include <vector>

namespace tk::amqp {

tk::Result<Endpoint> Endpoint::parse(std::string_view url) {
  // amqp_parse_url edits its input in place and points into it.
  std::vector<char> buf(url.begin(), url.end());
  buf.push_back('\0');
  amqp_connection_info info;
  amqp_default_connection_info(&info);
  if (amqp_parse_url(buf.data(), &info) != AMQP_STATUS_OK || info.ssl) return Errc::bad_endpoint;
  Endpoint ep;
  ep.host = info.host;
  ep.port = info.port;
  ep.user = info.user;
  ep.password = info.password;
  ep.vhost = info.vhost;
  return ep;
}

}  // namespace tk::amqp
