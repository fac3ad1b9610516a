// Reads the Prometheus text format (what /metrics serves) strictly enough for tests: families
// from the # TYPE lines, samples with their labels, and the problems a scrape must not have
// (names outside the grammar, samples of undeclared families, a series twice, a counter without
// _total, an unparsable value).
#pragma once

#include <cstdlib>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tw::test {

struct prom_sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct prom_text {
  std::map<std::string, std::string> families;  // name -> counter | gauge | histogram
  std::vector<prom_sample> samples;
  std::vector<std::string> problems;

  // The sum over the samples of `name` whose labels include `match`.
  double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double total = 0;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) ok = ok && s.labels.count(k) && s.labels.at(k) == v;
      if (ok) total += s.value;
    }
    return total;
  }
  size_t count(const std::string& name) const {
    size_t n = 0;
    for (const auto& s : samples) n += s.name == name;
    return n;
  }
  bool has_family(const std::string& name) const { return families.count(name) > 0; }
};

inline prom_text parse_prom_text(const std::string& text) {
  static const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex label_re("[a-zA-Z_][a-zA-Z0-9_]*");
  prom_text out;
  std::set<std::string> series;
  std::istringstream in(text);
  std::string line;
  auto family_of = [&](const std::string& sample_name) -> std::string {
    if (out.families.count(sample_name)) return sample_name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string sfx(suffix);
      if (sample_name.size() > sfx.size() && sample_name.compare(sample_name.size() - sfx.size(), sfx.size(), sfx) == 0) {
        auto base = sample_name.substr(0, sample_name.size() - sfx.size());
        if (out.families.count(base) && out.families.at(base) == "histogram") return base;
      }
    }
    return {};
  };
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      if (!std::regex_match(name, name_re)) out.problems.push_back("bad family name: " + name);
      if (out.families.count(name)) out.problems.push_back("family declared twice: " + name);
      if (type == "counter" && (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0))
        out.problems.push_back("counter without _total: " + name);
      out.families[name] = type;
      continue;
    }
    if (line[0] == '#') continue;
    prom_sample s;
    size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, name_re)) out.problems.push_back("bad sample name: " + line);
    if (i != std::string::npos && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          out.problems.push_back("bad labels: " + line);
          break;
        }
        std::string key = line.substr(i, eq - i), value;
        if (!std::regex_match(key, label_re)) out.problems.push_back("bad label name: " + line);
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      i = line.find(' ', i);
    }
    if (i == std::string::npos) {
      out.problems.push_back("no value: " + line);
      continue;
    }
    const std::string value = line.substr(i + 1);
    char* end = nullptr;
    const double inf = std::numeric_limits<double>::infinity();
    s.value = value == "+Inf" ? inf : value == "-Inf" ? -inf : std::strtod(value.c_str(), &end);
    if (value != "+Inf" && value != "-Inf" && value != "NaN" && (end == value.c_str() || *end != '\0'))
      out.problems.push_back("bad value: " + line);
    if (family_of(s.name).empty()) out.problems.push_back("sample of an undeclared family: " + line);
    if (!series.insert(line.substr(0, i)).second) out.problems.push_back("series twice: " + line);
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace tw::test
