// libFuzzer target for Set-Cookie parsing and the cookie jar
// (src/engine/scenario/cookie_jar.h), and for ${...} template compilation
// (src/engine/scenario/template.h).
//
// Input: lines. Each line is stored in a small jar as a Set-Cookie value received for a
// path taken from the line before; the jar's bounds are checked after every step and its
// Cookie header rendered. The whole input is also compiled and rendered as a template.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "scenario/cookie_jar.h"
#include "scenario/template.h"

namespace sc = volley::engine::scenario;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  sc::CookieJar::Limits limits{.max_cookies = 8, .max_bytes = 512, .max_cookie_bytes = 128};
  sc::CookieJar jar(limits);
  std::string_view path = "/";
  volley::Nanos now(1'000'000'000);
  std::string header;
  size_t start = 0;
  while (start <= input.size()) {
    size_t nl = input.find('\n', start);
    std::string_view line = input.substr(start, nl == std::string_view::npos ? nl : nl - start);
    sc::SetCookie parsed;
    if (sc::ParseSetCookie(line, &parsed) && parsed.name.empty()) std::abort();
    (void)sc::ParseCookieDate(line);
    jar.Store(line, path, now, 1'700'000'000);
    if (jar.size() > limits.max_cookies || jar.bytes() > limits.max_bytes) std::abort();
    header.clear();
    size_t n = jar.Render(path, now, &header);
    if ((n == 0) != header.empty()) std::abort();
    (void)sc::CookiePathMatches(line, path);
    path = line;
    now += std::chrono::milliseconds(700);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  sc::VariableTable table;
  auto tmpl = sc::Template::Compile(input, table);
  if (tmpl) {
    sc::Variables vars(&table);
    for (sc::VarId id = 0; id < table.size(); id += 2) vars.Set(id, "v");
    std::string out;
    std::string_view undefined;
    bool ok = tmpl->Render(vars, &out, &undefined);
    if (!ok && undefined.empty()) std::abort();
    if (ok && table.size() > 1) std::abort();  // id 1 is referenced and unset
  }
  return 0;
}
