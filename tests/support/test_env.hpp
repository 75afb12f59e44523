#pragma once
// Access to the throw-away servers started by the CTest fixture (tests/support/servers.sh).
#include <string>

namespace tk::test {

// Value of KEY from the servers' env file (TICKETING_PG_URL, TICKETING_REDIS_URL,
// TK_REDIS_PORT...), or else from the RabbitMQ fixture's (TICKETING_AMQP_URL, TK_AMQP_PORT), or
// else from the Sentinel fixture's (TK_SENTINEL_URL, TK_SENTINEL_NODE_PORTS...).
// Fails the test (throws) when neither file has the key.
std::string env(const std::string& key);

// Folder the fixture's servers live in (the env file's folder).
std::string servers_dir();

// Runs tests/support/servers.sh CMD on the fixture's servers (e.g. "redis-stop", "pg-start");
// rabbitmq-* commands ("rabbitmq-halt", "rabbitmq-resume") act on the RabbitMQ fixture's node,
// sentinel-* commands on the Sentinel fixture.
void servers(const std::string& cmd);
// Same, returning what the command printed (e.g. "sentinel-primary": the primary's port).
std::string servers_output(const std::string& cmd);

// Path of the built service binary and of the source tree.
inline std::string service_bin() { return TK_SERVICE_BIN; }
inline std::string source_dir() { return TK_SOURCE_DIR; }

}  // namespace tk::test
