#include "test_env.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#ifndef TK_TEST_ENV_FILE
#define TK_TEST_ENV_FILE ""
#endif
#ifndef TK_TEST_RABBITMQ_ENV_FILE
#define TK_TEST_RABBITMQ_ENV_FILE ""
#endif

#ifndef TK_TEST_SENTINEL_ENV_FILE
#define TK_TEST_SENTINEL_ENV_FILE ""
#endif

namespace tk::test {

static std::string env_file() {
  if (const char* p = std::getenv("TK_TEST_ENV")) return p;
  return TK_TEST_ENV_FILE;
}

static std::string rabbitmq_env_file() {
  if (const char* p = std::getenv("TK_TEST_RABBITMQ_ENV")) return p;
  return TK_TEST_RABBITMQ_ENV_FILE;
}

static std::string sentinel_env_file() {
  if (const char* p = std::getenv("TK_TEST_SENTINEL_ENV")) return p;
  return TK_TEST_SENTINEL_ENV_FILE;
}

static bool lookup(const std::string& file, const std::string& key, std::string& out) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos && line.substr(0, eq) == key) {
      out = line.substr(eq + 1);
      return true;
    }
  }
  return false;
}

std::string env(const std::string& key) {
  std::string v;
  if (lookup(env_file(), key, v) || lookup(rabbitmq_env_file(), key, v) ||
      lookup(sentinel_env_file(), key, v)) {
    return v;
  }
  throw std::runtime_error("key " + key + " missing in " + env_file() + ", " + rabbitmq_env_file() +
                           " and " + sentinel_env_file() +
                           " (is the test server fixture running?)");
}

static std::string dir_of(const std::string& f) { return f.substr(0, f.find_last_of('/')); }

std::string servers_dir() { return dir_of(env_file()); }

static std::string servers_command(const std::string& cmd) {
  auto dir = cmd.rfind("rabbitmq-", 0) == 0   ? dir_of(rabbitmq_env_file())
             : cmd.rfind("sentinel-", 0) == 0 ? dir_of(sentinel_env_file())
                                              : servers_dir();
  return std::string(TK_SOURCE_DIR) + "/tests/support/servers.sh " + cmd + " " + dir;
}

void servers(const std::string& cmd) {
  if (std::system(servers_command(cmd).c_str()) != 0) {
    throw std::runtime_error("servers.sh failed: " + cmd);
  }
}

std::string servers_output(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(servers_command(cmd).c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
    if (::pclose(f) != 0) throw std::runtime_error("servers.sh failed: " + cmd);
  } else {
    throw std::runtime_error("popen failed: " + cmd);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace tk::test
