// libFuzzer entry point for the payload parser: every input is one Kafka message's bytes, checked
// by payload_checker (payload_parser_check.hpp) under default and tiny limits, auto-detected and
// with each fixed format. A broken promise is printed with the input's size and aborts, which
// libFuzzer reports as a crash and saves as an artifact; ASan and UBSan abort the same way.
//
// Built only in the address-sanitizer build with clang (tests/fuzz/CMakeLists.txt); CI runs it
// for a bounded time from the seeds (docs/operations.md, "Testing: sanitizers and fuzzing").
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tests/fuzz/payload_parser_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tw::fuzz::payload_checker checker;  // one for the process: its parser is reused, as in the importer
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto violations = checker.check(input);
  if (violations.empty()) return 0;
  std::fprintf(stderr, "payload parser broke %zu promise(s) on a %zu-byte input:\n", violations.size(), size);
  for (const auto& v : violations) std::fprintf(stderr, "  %s\n", v.c_str());
  std::abort();
}
