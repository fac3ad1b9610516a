// `tracewatch generate`: synthetic calls (sim/) as Langfuse events, one message per line to a
// file or stdout, or produced to a Kafka topic. A load generator and a source of test data.
#include <fstream>
#include <iostream>

#include "app/commands.hpp"
#include "config/values.hpp"
#include "sim/call_generator.hpp"
#include "topics/kafka/output_producer.hpp"

namespace tw::app {

int generate_command(const generate_args& a) {
  sim::generator_options opts;
  opts.seed = a.seed;
  opts.keys = sim::key_mode::trace_id;
  auto spacing = config::parse_duration(a.spacing);
  if (!spacing || spacing->count() <= 0) {
    std::cerr << "tracewatch generate: --spacing: '" << a.spacing << "' is not a positive duration\n";
    return exit_usage;
  }
  auto start = parse_iso8601(a.start);
  if (!start) {
    std::cerr << "tracewatch generate: --start: '" << a.start << "' is not an ISO-8601 time\n";
    return exit_usage;
  }
  sim::call_generator gen(opts);
  std::vector<sim::call_plan> plans;
  auto messages = sim::generate_stream(gen, a.events, *start, *spacing, &plans);

  if (a.topic) {
    std::unique_ptr<kafka::output_producer> producer;
    auto st = kafka::output_producer::create(kafka::client_settings{a.brokers, {}}, producer);
    if (!st.ok()) {
      std::cerr << "tracewatch generate: " << st.message << "\n";
      return exit_failure;
    }
    std::vector<kafka::delivery> reports;
    size_t acked = 0, failed = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
      while (!producer->produce(*a.topic, messages[i].key, messages[i].payload, i).ok()) {
        producer->poll(std::chrono::milliseconds(10), reports);
      }
    }
    while (acked + failed < messages.size()) {
      size_t before = reports.size();
      producer->poll(std::chrono::milliseconds(100), reports);
      for (size_t i = before; i < reports.size(); ++i) (reports[i].status.ok() ? acked : failed)++;
      if (reports.size() == before && producer->in_flight() == 0) break;
    }
    for (const auto& r : reports)
      if (r.status.ok()) ++acked;
    if (failed) {
      std::cerr << "tracewatch generate: " << failed << " messages were not delivered\n";
      return exit_failure;
    }
  } else {
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (a.out && *a.out != "-") {
      file.open(*a.out, std::ios::binary | std::ios::trunc);
      if (!file) {
        std::cerr << "tracewatch generate: cannot write " << *a.out << "\n";
        return exit_usage;
      }
      out = &file;
    }
    for (const auto& m : messages) *out << m.payload << '\n';
    out->flush();
    if (!*out) {
      std::cerr << "tracewatch generate: writing failed\n";
      return exit_failure;
    }
  }
  size_t events = 0;
  for (const auto& p : plans) events += static_cast<size_t>(p.events);
  std::cerr << "generated " << plans.size() << " calls, " << events << " events in " << messages.size()
            << " messages\n";
  return exit_ok;
}

}  // namespace tw::app
