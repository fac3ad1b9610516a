// Writes the fuzzer's seeds: each message of the real fixtures (tests/support/fixture_messages.hpp)
// as one file, so that libFuzzer can read them as a corpus directory. Run at build time
// (tests/fuzz/CMakeLists.txt): the fixtures stay the one copy of the data, and a fixture added to
// fixture_messages() becomes a seed without another step.
//
// Usage: tw_fuzz_write_seeds <fixtures/real dir> <output dir>   (the output dir is replaced)
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tests/support/fixture_messages.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " <fixtures/real dir> <output dir>\n";
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path out = argv[2];
  try {
    const auto messages = tw::test::fixture_messages(argv[1]);
    fs::remove_all(out);
    fs::create_directories(out);
    for (const auto& m : messages) {
      std::string name = m.name;  // "file.json#3" -> "file.json.3"
      for (char& c : name)
        if (c == '#') c = '.';
      std::ofstream f(out / name, std::ios::binary);
      f << m.payload;
      if (!f) throw std::runtime_error("cannot write " + (out / name).string());
    }
    std::cout << "wrote " << messages.size() << " seeds to " << out.string() << "\n";
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
