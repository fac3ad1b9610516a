#include "http/exposition.hpp"

#include <charconv>
#include <cmath>

namespace tw::http {

void exposition::family(std::string_view name, metric_kind kind, std::string_view help) {
  name_ = std::string(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  // HELP text escapes backslash and newline (not quotes).
  for (char c : help) {
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += kind == metric_kind::counter ? " counter\n" : kind == metric_kind::gauge ? " gauge\n" : " histogram\n";
}

std::string exposition::format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string exposition::escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void exposition::line(std::string_view name, labels ls, std::string_view extra_name, std::string_view extra_value,
                      const std::string& value) {
  out_ += name;
  if (ls.size() > 0 || !extra_name.empty()) {
    out_ += '{';
    bool first = true;
    auto add = [&](std::string_view n, std::string_view v) {
      if (!first) out_ += ',';
      first = false;
      out_ += n;
      out_ += "=\"";
      out_ += escape_label_value(v);
      out_ += '"';
    };
    for (const auto& l : ls) add(l.name, l.value);
    if (!extra_name.empty()) add(extra_name, extra_value);
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

void exposition::sample(labels ls, double value) { line(name_, ls, {}, {}, format_value(value)); }
void exposition::sample(labels ls, uint64_t value) { line(name_, ls, {}, {}, std::to_string(value)); }
void exposition::sample(labels ls, int64_t value) { line(name_, ls, {}, {}, std::to_string(value)); }

void exposition::histogram_samples(labels ls, const std::vector<std::pair<double, uint64_t>>& buckets,
                                   uint64_t count, double sum) {
  const std::string bucket = name_ + "_bucket";
  for (const auto& [le, n] : buckets) line(bucket, ls, "le", format_value(le), std::to_string(n));
  line(bucket, ls, "le", "+Inf", std::to_string(count));
  line(name_ + "_sum", ls, {}, {}, format_value(sum));
  line(name_ + "_count", ls, {}, {}, std::to_string(count));
}

}  // namespace tw::http
