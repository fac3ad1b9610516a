// The fuzz harness's check (tests/fuzz/payload_parser_check.hpp) on every input the repository
// keeps: the regressions (inputs that once broke a promise), the hand-written seeds, and the real
// fixtures cut into messages. These run in every build — the plain one, ASan+UBSan and TSan — so a
// regression stays fixed even where libFuzzer is not built.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "formats_test_support.hpp"
#include "tests/fuzz/payload_parser_check.hpp"
#include "tests/support/fixture_messages.hpp"

using namespace tw;
using namespace tw::test;
namespace fs = std::filesystem;

namespace {

// The files of tests/fuzz/<dir>, sorted so that a failure names the same file every run.
std::vector<fs::path> committed_inputs(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(std::string(TW_SOURCE_DIR) + "/tests/fuzz/" + dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

void check_all(fuzz::payload_checker& checker, const std::string& name, const std::string& input) {
  const auto violations = checker.check(input);
  INFO(name << " (" << input.size() << " bytes)");
  for (const auto& v : violations) FAIL_CHECK(v);
}

}  // namespace

TEST_CASE("every fuzz regression input keeps the payload parser's promises") {
  fuzz::payload_checker checker;
  // regressions/ holds at least the issue-6 inputs (strings copied whole, ids cut): an empty
  // directory means the inputs were lost, not that there is nothing to replay.
  const auto files = committed_inputs("regressions");
  CHECK_FALSE(files.empty());
  for (const auto& f : files) check_all(checker, "regressions/" + f.filename().string(), read_file(f.string()));
}

TEST_CASE("every hand-written fuzz seed keeps the payload parser's promises and reaches a parser") {
  fuzz::payload_checker checker;
  const auto files = committed_inputs("corpus");
  REQUIRE_FALSE(files.empty());
  payload_parser parser;
  for (const auto& f : files) {
    const std::string input = read_file(f.string());
    check_all(checker, "corpus/" + f.filename().string(), input);
    // A seed is only useful if it gets past detection: its observations are what mutations reach.
    INFO("corpus/" << f.filename().string());
    CHECK_FALSE(parser.parse(input).observations.empty());
  }
}

TEST_CASE("every message of the real fixtures keeps the payload parser's promises under default and tiny limits") {
  fuzz::payload_checker checker;
  const auto messages = fixture_messages(std::string(TW_FIXTURES_DIR) + "/real");
  REQUIRE(messages.size() > 300);
  for (const auto& m : messages) check_all(checker, m.name, m.payload);
}
