#include "app/io_support.hpp"

#include <cstdlib>
#include <iostream>

namespace tw::app {

scratch_dir::scratch_dir(const char* prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data())) path_ = tmpl;
  else std::cerr << "tracewatch: cannot create a temporary directory in " << std::filesystem::temp_directory_path() << "\n";
}

scratch_dir::~scratch_dir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort: a leftover temporary directory harms nothing
}

output_file::output_file(const std::optional<std::string>& path, std::ostream* fallback) : stream_(fallback) {
  if (!path) return;
  file_.open(*path, std::ios::binary | std::ios::trunc);
  if (!file_) {
    std::cerr << "tracewatch: cannot write " << *path << "\n";
    ok_ = false;
    return;
  }
  stream_ = &file_;
}

}  // namespace tw::app
