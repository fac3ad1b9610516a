// Files the subcommands write and the state they do not keep.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>

namespace tw::app {

// A temporary directory (for state a command does not keep), removed when this goes.
class scratch_dir {
 public:
  explicit scratch_dir(const char* prefix);
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// An output a command writes to: the file at `path` (truncated), or `fallback` (stdout, or null
// for "not kept") when no path is given. ok() is false, after an error on stderr naming the
// file, when the file cannot be written.
class output_file {
 public:
  output_file(const std::optional<std::string>& path, std::ostream* fallback);
  bool ok() const { return ok_; }
  std::ostream* stream() { return stream_; }

 private:
  std::ofstream file_;
  std::ostream* stream_ = nullptr;
  bool ok_ = true;
};

}  // namespace tw::app
