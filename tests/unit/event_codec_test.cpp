// The stored form of an event must give back exactly what went in, and refuse damaged bytes.
#include <catch2/catch.hpp>

#include "state/event_codec.hpp"

using namespace tw;
using namespace tw::state;

TEST_CASE("an observation with every field round-trips through its stored form") {
  observation o;
  o.event_id = "e1";
  o.session_id = "s";
  o.trace_id = "t";
  o.observation_id = "o";
  o.kind = obs_kind::tool;
  o.is_update = true;
  o.source_type = "tool-create";
  o.source_index = 7;
  o.timestamp = event_time::from_micros(-5);
  o.start = event_time::from_micros(1);
  o.end = event_time::from_micros(2);
  o.parent_id = "p";
  o.name = "n";
  o.level = obs_level::error;
  o.status_message = "";  // engaged but empty: a Langfuse null that clears
  o.model = "m";
  o.input_tokens = 3;
  o.output_tokens = -4;
  o.cost_usd = 0.125;
  o.finish_reason = "stop";
  o.tool_name = "tn";
  o.tool_call_id = "tc";
  o.tool_result = "{\"ok\":true}";
  o.user_text = "héllo";
  o.assistant_text = "a";
  o.user_id = "u";
  o.environment = "production";
  o.metadata = metadata_entries{{"k", "v"}, {"k2", ""}};
  o.score_value = 0.5;
  o.score_label = "good";
  std::string bytes;
  encode_event(o, bytes);
  auto back = decode_event(bytes);
  REQUIRE(back);
  std::string again;
  encode_event(*back, again);
  CHECK(again == bytes);
  CHECK(back->status_message.has_value());
  CHECK(back->status_message->empty());
  CHECK(back->metadata == o.metadata);
  CHECK(back->source_index == 7);
  for (size_t cut = 0; cut < bytes.size(); ++cut) CHECK_FALSE(decode_event(bytes.substr(0, cut)));
}

TEST_CASE("absent optional fields stay absent") {
  observation o;
  o.event_id = "e";
  o.trace_id = "t";
  o.observation_id = "t";
  o.kind = obs_kind::trace;
  std::string bytes;
  encode_event(o, bytes);
  auto back = decode_event(bytes);
  REQUIRE(back);
  CHECK_FALSE(back->start);
  CHECK_FALSE(back->level);
  CHECK_FALSE(back->metadata);
  CHECK_FALSE(back->is_update);
}
