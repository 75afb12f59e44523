#include "http/json_body.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <string>
#include <unordered_set>
#include <vector>

namespace tk::http {

namespace json = boost::json;

namespace {

// A basic_parser handler that only tracks the keys of each open object; values are not built.
struct DuplicateKeys {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::vector<std::unordered_set<std::string>> open;  // one key set per nesting level
  std::string key;                                    // the key being read (it may come in parts)
  std::optional<std::string> duplicate;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    open.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    open.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key.append(s.data(), s.size());
    if (!open.back().insert(key).second) {
      duplicate = std::move(key);
      ec = json::error::syntax;  // stops the parser; `duplicate` tells it apart from bad JSON
      return false;
    }
    key.clear();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

}  // namespace

JsonBody parse_json_body(std::string_view text) {
  JsonBody out;
  json::basic_parser<DuplicateKeys> scan(json::parse_options{});
  json::error_code ec;
  scan.write_some(false, text.data(), text.size(), ec);
  if (scan.handler().duplicate) {
    out.duplicate = std::move(scan.handler().duplicate);
    return out;
  }
  if (ec) {
    out.malformed = true;
    return out;
  }
  out.value = json::parse(text, ec);
  out.malformed = static_cast<bool>(ec);
  return out;
}

}  // namespace tk::http
