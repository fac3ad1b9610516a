// Micro-benchmark of the input-format parsers: how many typical messages one payload_parser
// turns into observations per second on one thread.
// Usage: tw_bench_parse [seconds per case] [langfuse|otlp]
//
// The cases are what the importer sees most: a Langfuse batch holding one generation-create
// (~500 bytes) and an OTLP export request holding one GenAI chat span (~1.4 KB).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "topics/formats/formats.hpp"

namespace {

const char* const langfuse_generation = R"({"batch":[{"id":"evt-7f3c2a9e-1b4d-4c8e-9a2f-3e5d6c7b8a90","type":"generation-create","timestamp":"2025-01-01T12:00:00.123Z","body":{"id":"gen-0001","traceId":"trace-0001","parentObservationId":"span-0001","name":"chat","startTime":"2025-01-01T12:00:00.000Z","endTime":"2025-01-01T12:00:01.250Z","model":"gpt-4o-mini","input":{"messages":[{"role":"system","content":"You are a helpful booking assistant."},{"role":"user","content":"I need to move my appointment to Friday at 3pm."}]},"output":{"role":"assistant","content":"Sure, let me check Friday at 3pm for you."},"usage":{"input":42,"output":12,"unit":"TOKENS"},"metadata":{"agent":"booking"}}}]})";

const char* const otlp_chat_span = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"booking-agent"}},{"key":"telemetry.sdk.language","value":{"stringValue":"python"}}]},"scopeSpans":[{"scope":{"name":"opentelemetry.instrumentation.openai","version":"0.40.0"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173","name":"chat gpt-4o-mini","kind":3,"startTimeUnixNano":"1735732800000000000","endTimeUnixNano":"1735732801250000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},{"key":"gen_ai.response.model","value":{"stringValue":"gpt-4o-mini-2024-07-18"}},{"key":"gen_ai.conversation.id","value":{"stringValue":"call-2025-01-01-0001"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"42"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"12"}},{"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}},{"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"system\",\"parts\":[{\"type\":\"text\",\"content\":\"You are a helpful booking assistant.\"}]},{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"I need to move my appointment to Friday at 3pm.\"}]}]"}},{"key":"gen_ai.output.messages","value":{"stringValue":"[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"Sure, let me check Friday at 3pm for you.\"}],\"finish_reason\":\"stop\"}]"}}],"status":{"code":1}}]}]}]})";

void run(const char* label, const std::string& payload, double seconds) {
  tw::payload_parser parser;
  size_t observations = 0, events = 0;
  // Warm up: the parser sizes its buffers on the first messages.
  for (int i = 0; i < 1000; ++i) observations += parser.parse(payload).observations.size();
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  auto now = start;
  while (now < deadline) {
    for (int i = 0; i < 1000; ++i) {
      auto r = parser.parse(payload);
      observations += r.observations.size();
      if (!r.rejected.empty()) {
        std::fprintf(stderr, "%s: rejected: %s\n", label, r.rejected.front().detail.c_str());
        std::exit(1);
      }
    }
    events += 1000;
    now = clock::now();
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  std::printf("%-32s %5zu bytes  %10.0f events/s  %8.0f ns/event  %6.1f MB/s\n", label, payload.size(),
              events / elapsed, elapsed * 1e9 / events, payload.size() * events / elapsed / 1e6);
  if (observations == 0) std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const std::string only = argc > 2 ? argv[2] : "";
  if (only.empty() || only == "langfuse") run("langfuse generation-create", langfuse_generation, seconds);
  if (only.empty() || only == "otlp") run("otlp chat span", otlp_chat_span, seconds);
  return 0;
}
