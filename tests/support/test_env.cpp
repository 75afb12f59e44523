#include "test_env.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#ifndef TK_TEST_ENV_FILE
#define TK_TEST_ENV_FILE ""
#endif

namespace tk::test {

static std::string env_file() {
  if (const char* p = std::getenv("TK_TEST_ENV")) return p;
  return TK_TEST_ENV_FILE;
}

std::string env(const std::string& key) {
  std::ifstream in(env_file());
  if (!in) throw std::runtime_error("test servers env file missing: " + env_file());
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos && line.substr(0, eq) == key) return line.substr(eq + 1);
  }
  throw std::runtime_error("key " + key + " missing in " + env_file());
}

std::string servers_dir() {
  auto f = env_file();
  return f.substr(0, f.find_last_of('/'));
}

void servers(const std::string& cmd) {
  std::string c =
      std::string(TK_SOURCE_DIR) + "/tests/support/servers.sh " + cmd + " " + servers_dir();
  if (std::system(c.c_str()) != 0) throw std::runtime_error("servers.sh failed: " + cmd);
}

}  // namespace tk::test
