// The built-in rules (judge/rules/scheduling.yaml) over sessions shaped like the demo's calls
// (sim/call_generator.cpp): each intent and outcome the generator produces must get the intent
// and verdict its plan implies, so that the demo's verdicts agree with its truth.
#include <catch2/catch.hpp>

#include "judge/judge.hpp"
#include "judge_test_support.hpp"

using namespace tw;
using namespace tw::judge;
using tw::test::builtin;
using tw::test::codes_of;
using tw::test::session_builder;

namespace {

// The generator's steps, with its phrasing, tools and results. Each turn has the LLM calls the
// generator emits: one without a tool, two around a tool call.
struct call {
  session_builder b{"call-000001-0000abcd"};

  call& say(const char* user, const char* reply) {
    b.turn(user, reply).llm();
    return *this;
  }
  call& use(const char* user, const char* tool, const char* result, const char* reply) {
    b.turn(user, reply).llm().tool(tool, result).llm();
    return *this;
  }
  call& fail(const char* user, const char* tool, const char* error, const char* reply) {
    b.turn(user, reply).llm().tool_error(tool, error).llm();
    return *this;
  }
  call& identify() {
    return use("It's Maria Johnson, date of birth May 3, 1970.", "lookup_patient",
               R"({"patient_id":"pat-12345","name":"Maria Johnson","insurance":"Aetna"})",
               "Thanks, Maria. Which day would suit you?");
  }
  call& availability() {
    return use("Do you have anything on Tuesday morning?", "check_availability",
               R"({"slots":["2025-03-18 09:30","2025-03-18 10:00"]})",
               "On Tuesday I have 9:30 AM or 10:00 AM. Which would you prefer?");
  }
  call& filler() { return say("Hang on, let me grab a pen.", "Sure, take your time."); }
  call& closing() { return say("Great, thank you. Bye!", "You're welcome. Have a great day!"); }
  call& give_up() {
    return say("Forget it, I'll call back later.",
               "I'm sorry I couldn't complete that today. Please call back later or use our online portal.");
  }
  call& escalate() {
    return use("Can I just speak to a real person?", "transfer_to_human",
               R"({"transferred":true,"queue":"front-desk","estimated_wait_s":45})",
               "Of course. I'm transferring you to our front desk now.");
  }
  call& abandoned() {
    b.abandoned();
    return *this;
  }
  session_summary build() const { return b.build(); }
};

const char* const booked = R"({"appointment_id":"apt-482913","slot":"2025-03-18 09:30","provider":"Dr. Patel"})";
const char* const cancelled = R"({"cancelled":true,"appointment_id":"apt-100200"})";
const char* const rescheduled = R"({"appointment_id":"apt-100200","new_slot":"2025-03-18 10:00"})";

call book_opening() {
  call c;
  c.say("Hi. I'd like to book an appointment with Dr. Patel.",
        "I can help with that. May I have your full name and date of birth?");
  return c;
}
call cancel_opening() {
  call c;
  c.say("I want to cancel the appointment I booked with Dr. Nguyen.",
        "I can help with that. May I have your full name and date of birth?");
  return c;
}
call reschedule_opening() {
  call c;
  c.say("Something came up, I'd like to change my appointment to Thursday.",
        "I can help with that. May I have your full name and date of birth?");
  return c;
}
call question_opening() {
  call c;
  c.say("Good morning. What time do you open on Monday?",
        "We're open Monday to Friday from 8 AM to 6 PM, and Saturdays from 9 AM to noon.");
  return c;
}

}  // namespace

TEST_CASE("the built-in rules give the demo's calls the intent and verdict their plan implies") {
  struct row {
    const char* description;
    session_summary session;
    const char* intent;
    verdict_status status;
  };
  const row rows[] = {
      // fulfilled
      {"a booking whose schedule_appointment succeeded",
       book_opening().identify().availability().filler()
           .use("9:30 AM works for me.", "schedule_appointment", booked, "You're booked with Dr. Patel.")
           .closing().build(),
       "book_appointment", verdict_status::pass},
      {"a booking that succeeded on a retry after 'slot no longer available'",
       book_opening().identify().availability()
           .fail("Let's do 9:30 AM, please.", "schedule_appointment", "slot no longer available",
                 "I'm sorry, that slot was just taken.")
           .use("Okay, what about 10:00 AM then?", "schedule_appointment", booked, "You're booked with Dr. Patel.")
           .build(),
       "book_appointment", verdict_status::pass},
      {"a cancellation whose cancel_appointment succeeded",
       cancel_opening().identify()
           .use("Yes, please cancel it.", "cancel_appointment", cancelled, "Done — your appointment is cancelled.")
           .closing().build(),
       "cancel_appointment", verdict_status::pass},
      {"a reschedule whose reschedule_appointment succeeded",
       reschedule_opening().identify().availability().filler()
           .use("10:00 AM is perfect.", "reschedule_appointment", rescheduled, "All set.")
           .build(),
       "reschedule_appointment", verdict_status::pass},
      {"questions answered, one of them from the caller's records",
       question_opening()
           .say("Also, is there parking at the clinic?", "There's free parking behind the building.")
           .use("One more thing: is my insurance still on file? It's Maria Johnson, date of birth May 3, 1970.",
                "lookup_patient", R"({"patient_id":"pat-12345","name":"Maria Johnson","insurance":"Aetna"})",
                "I see Aetna on file for you, and we accept it.")
           .closing().build(),
       "general_question", verdict_status::pass},
      // tool_failed
      {"a booking whose schedule_appointment failed twice, then the caller gave up",
       book_opening().identify().availability()
           .fail("9:30 AM works for me.", "schedule_appointment", "upstream timeout",
                 "I'm sorry, our system isn't responding right now.")
           .fail("Can you try 10:00 AM instead?", "schedule_appointment", "EHR API returned 503 Service Unavailable",
                 "I'm sorry, our system isn't responding right now.")
           .give_up().build(),
       "book_appointment", verdict_status::fail},
      {"a cancellation whose cancel_appointment failed",
       cancel_opening().identify()
           .fail("Yes, go ahead.", "cancel_appointment", "appointment not found",
                 "I'm sorry, I can't find that appointment in our system.")
           .filler().give_up().build(),
       "cancel_appointment", verdict_status::fail},
      {"a question whose records lookup failed, then the caller gave up",
       question_opening()
           .fail("And can you check whether my Aetna insurance is on file? I'm Maria Johnson, born May 3, 1970.",
                 "lookup_patient", "records service unavailable", "I'm sorry, I can't access your records right now.")
           .give_up().build(),
       "general_question", verdict_status::fail},
      // transferred
      {"a booking handed to a person after schedule_appointment failed",
       book_opening().identify().availability()
           .fail("9:30 AM works for me.", "schedule_appointment", "slot no longer available",
                 "I'm sorry, that slot was just taken.")
           .escalate().build(),
       "book_appointment", verdict_status::partial},
      {"a reschedule handed to a person before any attempt",
       reschedule_opening().identify().availability().escalate().build(), "reschedule_appointment",
       verdict_status::partial},
      {"a question handed to a person", question_opening().filler().escalate().build(), "general_question",
       verdict_status::partial},
      // abandoned
      {"a booking call that dropped after the caller identified",
       book_opening().identify().abandoned().build(), "book_appointment", verdict_status::abandoned},
      {"a question call that dropped after one turn", question_opening().abandoned().build(), "general_question",
       verdict_status::abandoned},
      // error
      {"a booking whose last LLM call failed with a rate limit before schedule_appointment ran",
       [] {
         call c = book_opening().identify().availability();
         c.b.turn("9:30 AM works for me.").llm_error("rate limit exceeded");
         return c.build();
       }(),
       "book_appointment", verdict_status::error},
      // fallback
      {"a call that says nothing the rules know", call().filler().closing().build(), "unknown", verdict_status::pass},
  };
  const auto rules = builtin();
  for (const auto& r : rows) {
    INFO(r.description);
    const judgement j = judge_session(r.session, rules);
    CHECK(j.outcome.intent.name == r.intent);
    CHECK(j.outcome.status == r.status);
    CHECK(j.outcome.rules_version == rules_version(*rules));
    CHECK(j.diagnosis.has_value() == needs_diagnosis(r.status));
  }
}

TEST_CASE("the built-in rules are confident about the opening line and more so once the key tool ran") {
  const auto rules = builtin();
  const auto opening_only = intent_classifier(rules).classify(book_opening().abandoned().build());
  CHECK(opening_only.name == "book_appointment");
  CHECK(opening_only.confidence == Approx(0.8));

  const auto with_tool = intent_classifier(rules).classify(
      book_opening().identify().use("9:30 AM works for me.", "schedule_appointment", booked, "Booked.").build());
  CHECK(with_tool.confidence == Approx(0.92));
  REQUIRE(with_tool.evidence.size() == 2);
  CHECK(with_tool.evidence[0].rule == "book_phrase");
  CHECK(with_tool.evidence[1].rule == "book_tool");
}

TEST_CASE("a failed booking is diagnosed with the failing tool and its configuration key") {
  const session_summary s = book_opening()
                                .identify()
                                .availability()
                                .fail("9:30 AM works for me.", "schedule_appointment", "upstream timeout",
                                      "I'm sorry, our system isn't responding right now.")
                                .give_up()
                                .build();
  const judgement j = judge_session(s, builtin());
  REQUIRE(j.diagnosis);
  REQUIRE(codes_of(j.diagnosis->findings) == std::vector<std::string>{"TOOL_ERROR"});
  const finding& f = j.diagnosis->findings[0];
  CHECK(f.level == severity::critical);
  CHECK(f.observation_ids == std::vector<std::string>{"tool3"});
  REQUIRE(j.diagnosis->recommendations.size() == 1);
  CHECK(j.diagnosis->recommendations[0].key == "tools.schedule_appointment.timeout_ms");
  CHECK(tw::test::check_named(j.outcome.fulfillment, "appointment_scheduled").outcome == check_outcome::failed);
}

TEST_CASE("a transfer makes the key check not apply, so the call is partial rather than failed") {
  const session_summary s = book_opening().identify().escalate().build();
  const judgement j = judge_session(s, builtin());
  CHECK(j.outcome.status == verdict_status::partial);
  const check_result& key = tw::test::check_named(j.outcome.fulfillment, "appointment_scheduled");
  CHECK(key.outcome == check_outcome::skipped);
  CHECK_THAT(key.detail, Catch::Contains("transfer_to_human succeeded"));
  CHECK(tw::test::check_named(j.outcome.fulfillment, "not_transferred").outcome == check_outcome::failed);
}
