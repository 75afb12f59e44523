#include "tokens.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace loadgen {

namespace {
// `<account_num> <account_id> <session_token>` -> id and token; false for a line without them.
bool parse_line(std::string_view line, std::string_view& id, std::string_view& token) {
  auto a = line.find(' ');
  auto b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos) return false;
  auto e = line.find_first_of(" \r", b + 1);
  id = line.substr(a + 1, b - a - 1);
  token = line.substr(b + 1, e == std::string_view::npos ? e : e - b - 1);
  return !token.empty();
}
}  // namespace

void Tokens::load(const std::string& path, std::size_t max) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open tokens file " + path);
  std::string line;
  std::vector<std::uint64_t> starts;
  while (starts.size() < max && std::getline(in, line)) {
    std::string_view id, tok;
    if (!parse_line(line, id, tok)) continue;
    arena_ += "Bearer ";
    starts.push_back(arena_.size());
    arena_ += tok;
  }
  if (in.bad()) throw std::runtime_error("error reading " + path);
  off_ = std::move(starts);
  if (!off_.empty()) off_.push_back(arena_.size() + 7);
  arena_.shrink_to_fit();
}

std::vector<std::string> account_ids(const std::string& path, const std::vector<std::size_t>& idx) {
  std::vector<std::string> out(idx.size());
  if (idx.empty()) return out;
  std::size_t last = 0;
  for (auto i : idx) last = std::max(last, i);
  // Buyer i -> the places in `idx` that name it.
  std::vector<std::vector<std::size_t>> wanted(last + 1);
  for (std::size_t k = 0; k < idx.size(); ++k) wanted[idx[k]].push_back(k);
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open tokens file " + path);
  std::string line;
  std::size_t buyer = 0;
  while (buyer <= last && std::getline(in, line)) {
    std::string_view id, tok;
    if (!parse_line(line, id, tok)) continue;  // skipped by load() as well: same numbering
    for (auto k : wanted[buyer]) out[k] = std::string(id);
    ++buyer;
  }
  if (in.bad()) throw std::runtime_error("error reading " + path);
  return out;
}

}  // namespace loadgen
