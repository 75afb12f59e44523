#include "tokens.hpp"

#include <fstream>
#include <stdexcept>

namespace loadgen {

void Tokens::load(const std::string& path, std::size_t max) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open tokens file " + path);
  std::string line;
  std::vector<std::uint64_t> starts;
  while (starts.size() < max && std::getline(in, line)) {
    // The token is the third space-separated field.
    auto a = line.find(' ');
    auto b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (b == std::string::npos) continue;
    auto e = line.find_first_of(" \r", b + 1);
    auto tok = std::string_view(line).substr(b + 1, e == std::string::npos ? e : e - b - 1);
    if (tok.empty()) continue;
    arena_ += "Bearer ";
    starts.push_back(arena_.size());
    arena_ += tok;
  }
  if (in.bad()) throw std::runtime_error("error reading " + path);
  off_ = std::move(starts);
  if (!off_.empty()) off_.push_back(arena_.size() + 7);
  arena_.shrink_to_fit();
}

}  // namespace loadgen
