#include "sim/call_generator.hpp"

#include "model/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace tw::sim {
namespace {

// Appends JSON text to a string, in call order: the byte layout is part of the determinism
// contract, so it is written directly rather than through a DOM (also about 5x faster than building
// nlohmann trees, which dominated the generator's profile). Numbers are integers or decimal
// text we produce ourselves, never formatted doubles. The caller pairs open/close calls.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& open_object() { return open('{'); }
  json_writer& close_object() { return close('}'); }
  json_writer& open_array() { return open('['); }
  json_writer& close_array() { return close(']'); }
  json_writer& key(std::string_view k) {
    separate();
    quoted(k);
    out_ += ':';
    fresh_ = true;  // the value follows without a comma
    return *this;
  }
  json_writer& value(std::string_view s) {
    separate();
    quoted(s);
    return *this;
  }
  json_writer& value(const char* s) { return value(std::string_view(s)); }  // not bool
  json_writer& value(int64_t v) { return raw(std::to_string(v)); }
  json_writer& value(int v) { return value(static_cast<int64_t>(v)); }
  json_writer& value(bool v) { return raw(v ? "true" : "false"); }
  // Already-serialised JSON (a nested document, or a number's text).
  json_writer& raw(std::string_view text) {
    separate();
    out_ += text;
    return *this;
  }
  template <class T>
  json_writer& field(std::string_view k, const T& v) {
    return key(k).value(v);
  }
  json_writer& raw_field(std::string_view k, std::string_view text) { return key(k).raw(text); }

 private:
  json_writer& open(char c) {
    separate();
    out_ += c;
    fresh_ = true;
    return *this;
  }
  json_writer& close(char c) {
    out_ += c;
    fresh_ = false;
    return *this;
  }
  void separate() {
    if (!fresh_) out_ += ',';
    fresh_ = false;
  }
  // RFC 8259 escaping; UTF-8 passes through unchanged (our texts are valid UTF-8).
  void quoted(std::string_view s) { append_json_string(out_, s); }

  std::string& out_;
  bool fresh_ = true;  // nothing written at this level yet, or a key was just written
};

// Appends {"role","name"?,"content"} to the elements of a chat messages array.
void append_message(std::string& elements, std::string_view role, std::string_view content,
                    std::string_view name = {}) {
  if (!elements.empty()) elements += ',';
  json_writer w(elements);
  w.open_object().field("role", role);
  if (!name.empty()) w.field("name", name);
  w.field("content", content).close_object();
}

// "0.000123456": dollars from nanodollars, trailing zeros trimmed. Costs are kept as integers so
// that their sum is exact and their text is the same on every platform.
std::string usd_text(int64_t nanos) {
  std::string frac = std::to_string(1'000'000'000 + nanos % 1'000'000'000).substr(1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  std::string text = std::to_string(nanos / 1'000'000'000);
  if (!frac.empty()) text += "." + frac;
  return text;
}

// Uniform draws from raw 64-bit outputs. std::uniform_*_distribution are implementation-defined,
// so they would make the output depend on the standard library; this mapping does not.
//
// Determinism also needs every draw in its own statement: the evaluation order of function
// arguments is unspecified, so `f(r.between(..), r.between(..))` could differ between compilers.
class random_source {
 public:
  explicit random_source(std::mt19937_64& engine) : engine_(engine) {}

  // Uniform in [lo, hi], both inclusive (modulo bias below 2^-40 for our ranges). REQUIRES: lo <= hi.
  int64_t between(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(engine_() % span);
  }
  // Uniform in [0, 1), 53 bits.
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  template <class T, size_t N>
  const T& pick(const T (&items)[N]) {
    return items[between(0, static_cast<int64_t>(N) - 1)];
  }

 private:
  std::mt19937_64& engine_;
};

constexpr int64_t ms_per_day = 86'400'000;

// --- the clinic's world -------------------------------------------------------------------------

constexpr const char* system_prompt =
    "You are the receptionist of Riverside Family Clinic. Help callers book, cancel or reschedule "
    "appointments and answer questions about opening hours, the address, parking and insurance. "
    "Use the tools for anything about appointments or patient records; never invent an "
    "appointment id. Keep answers short: they are spoken on the phone.";

constexpr const char* first_names[] = {"Maria", "James", "Aisha", "Wei",  "Olga", "Daniel", "Priya", "Carlos",
                                       "Emma",  "Kenji", "Fatima", "Liam", "Sofia", "Noah", "Grace", "Mateo"};
constexpr const char* last_names[] = {"Johnson", "Garcia", "Chen",  "Okafor", "Novak", "Patel", "Kim",
                                      "Rossi",   "Smith",  "Haddad", "Müller", "Silva", "Nguyen", "Brown"};
constexpr const char* providers[] = {"Dr. Patel", "Dr. Nguyen", "Dr. Okafor", "Dr. Lindqvist", "Dr. Alvarez"};
constexpr const char* insurers[] = {"Aetna", "Blue Cross", "Cigna", "UnitedHealthcare", "Medicare", "Humana"};
constexpr const char* weekdays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr const char* months[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};

// Openings, one list per intent. Each contains a phrase an intent rule can catch; placeholders in
// braces are filled from the call's facts (see fill()).
constexpr const char* book_openings[] = {
    "I'd like to book an appointment with {provider}.",
    "I need to book an appointment for a check-up.",
    "Can I book an appointment for {weekday}?",
    "I want to schedule an appointment, please.",
    "I'd like to make an appointment with {provider} if possible.",
    "Do you have time to see me this week? I'd like to book an appointment.",
};
constexpr const char* cancel_openings[] = {
    "I need to cancel my appointment on {existing_day}.",
    "I'd like to cancel my appointment, please.",
    "I can't make it on {existing_day}, can you cancel my appointment?",
    "I want to cancel the appointment I booked with {provider}.",
};
constexpr const char* reschedule_openings[] = {
    "Can I move my appointment to {weekday}?",
    "I need to reschedule my appointment with {provider}.",
    "Could you move my appointment to a different day?",
    "Something came up, I'd like to change my appointment to {weekday}.",
    "I'd like to reschedule my appointment to {weekday} {part}.",
};

enum class topic { hours, address, insurance, parking, insurance_check };

constexpr const char* hours_questions[] = {"What time do you open on {weekday}?", "What are your opening hours?",
                                           "How late are you open today?", "Are you open on Saturdays?"};
constexpr const char* address_questions[] = {"What's your address?", "Where are you located?",
                                             "Can you tell me the address of the clinic?"};
constexpr const char* insurance_questions[] = {"Do you take {insurance} insurance?", "Do you accept {insurance}?",
                                               "Is {insurance} insurance accepted at your clinic?"};
constexpr const char* parking_questions[] = {"Is there parking at the clinic?", "Where can I park when I come in?"};
constexpr const char* insurance_checks[] = {
    "Can you check whether my {insurance} insurance is on file? I'm {first} {last}, born {dob_spoken}.",
    "Is my insurance still on file? It's {first} {last}, date of birth {dob_spoken}.",
};
constexpr const char* greetings[] = {"", "Hi. ", "Hello! ", "Good morning. ", "Hi there. "};
constexpr const char* follow_up_prefixes[] = {"Also, ", "And ", "One more thing: "};

constexpr const char* identify_utterances[] = {"It's {first} {last}, date of birth {dob_spoken}.",
                                               "My name is {first} {last}, born {dob_spoken}.",
                                               "{first} {last}. My birthday is {dob_spoken}."};
constexpr const char* availability_utterances[] = {"Do you have anything on {weekday} {part}?",
                                                   "{weekday} {part} would be best.",
                                                   "Is there something on {weekday}?"};
constexpr const char* book_commits[] = {"{time_a} works for me.", "Let's do {time_a}, please.",
                                        "The first one, please."};
constexpr const char* cancel_commits[] = {"Yes, please cancel it.", "Yes, go ahead.", "Yes, cancel it please."};
constexpr const char* reschedule_commits[] = {"{time_a} is perfect.", "Let's go with {time_a}.",
                                              "The first one works."};
constexpr const char* slot_retries[] = {"Okay, what about {time_b} then?", "Then {time_b}, please.",
                                        "Can you try {time_b} instead?"};
constexpr const char* plain_retries[] = {"Could you try again, please?", "Can you check again?"};
constexpr const char* closings[] = {"Great, thank you. Bye!", "Perfect, thanks so much.", "That's all, thank you."};
constexpr const char* closing_replies[] = {"You're welcome. Have a great day!", "Happy to help. Goodbye!"};
constexpr const char* escalations[] = {"Can I just speak to a real person?",
                                       "I'd like to talk to someone at the front desk.",
                                       "This isn't working, put me through to a human, please.",
                                       "Operator, please."};
constexpr const char* give_ups[] = {"Okay, never mind then.", "Forget it, I'll call back later.",
                                    "That's annoying. Bye."};
constexpr const char* interim_replies[] = {"One moment, let me check.", "Let me look that up for you.",
                                           "Just a second."};

// Neutral turns: no phrase an intent rule should catch.
struct exchange {
  const char* user;
  const char* agent;
};
constexpr exchange fillers[] = {
    {"Sorry, could you repeat that?", "Of course, let me say that again."},
    {"Hang on, let me grab a pen.", "Sure, take your time."},
    {"Sorry, the line is bad. What was that?", "No problem, I'll repeat it."},
    {"Okay, one second please.", "Take your time."},
    {"Hmm, let me think.", "Sure, no rush."},
    {"Do I need to bring anything?", "Just a photo ID and your insurance card."},
};

struct model_price {
  const char* name;
  int64_t nanousd_per_input_token;  // list prices: $0.15 per million tokens is 150
  int64_t nanousd_per_output_token;
};
constexpr model_price mini_model{"gpt-4o-mini", 150, 600};
constexpr model_price large_model{"gpt-4o", 2'500, 10'000};

// --- a call's script ----------------------------------------------------------------------------

enum class step {
  opening,       // the caller states the intent (questions: asks the first question)
  identify,      // name and date of birth -> lookup_patient
  availability,  // a day -> check_availability
  commit,        // the key tool
  retry,         // the key tool again, after a failure
  follow_up,     // another question (question intent)
  filler,        // a neutral exchange
  closing,       // thanks and goodbye
  escalate,      // the caller wants a person -> transfer_to_human
  give_up,       // the caller gives up after failures
  agent_failure, // the agent's LLM call fails; it apologises with a canned reply and the call ends
};

struct turn_spec {
  step kind = step::filler;
  bool tool_fails = false;  // the turn's tool call (if any) fails
  topic about = topic::hours;
};

// Everything a call talks about, drawn once so that the turns agree with each other.
struct call_facts {
  std::string first, last, dob, dob_spoken, patient_id, provider, insurance;
  std::string weekday, part;            // the day the caller asks for
  std::string slot_a, slot_b;           // "2025-03-14 09:30", offered by check_availability
  std::string time_a, time_b;           // "9:30 AM"
  std::string existing_slot, existing_day, existing_appointment;  // cancel/reschedule
  std::string new_appointment;          // book
  const model_price* model = &mini_model;
  std::string agent = "clinic-scheduler";  // metadata `agent`: one of options.agents
};

std::string two_digits(int v) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

std::string slot_text(int64_t day, int minute_of_day) {
  std::string date = format_iso8601(event_time::from_millis(day * ms_per_day)).substr(0, 10);
  return date + " " + two_digits(minute_of_day / 60) + ":" + two_digits(minute_of_day % 60);
}

std::string spoken_time(int minute_of_day) {
  int h = minute_of_day / 60;
  const char* suffix = h < 12 ? "AM" : "PM";
  if (h > 12) h -= 12;
  return std::to_string(h) + ":" + two_digits(minute_of_day % 60) + " " + suffix;
}

int weekday_of(int64_t day) { return static_cast<int>(((day + 4) % 7 + 7) % 7); }  // 1970-01-01: Thursday

// Replaces {name} placeholders; an unknown name is a bug in the tables above.
std::string fill(std::string_view text, const call_facts& f) {
  std::string out;
  out.reserve(text.size() + 32);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find('{', pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find('}', open);
    out.append(text, pos, open - pos);
    const std::string_view name = text.substr(open + 1, close - open - 1);
    if (name == "provider") out += f.provider;
    else if (name == "weekday") out += f.weekday;
    else if (name == "part") out += f.part;
    else if (name == "insurance") out += f.insurance;
    else if (name == "first") out += f.first;
    else if (name == "last") out += f.last;
    else if (name == "dob_spoken") out += f.dob_spoken;
    else if (name == "time_a") out += f.time_a;
    else if (name == "time_b") out += f.time_b;
    else if (name == "existing_day") out += f.existing_day;
    else throw std::logic_error("sim: unknown placeholder {" + std::string(name) + "}");
    pos = close + 1;
  }
  out.append(text, pos, std::string_view::npos);
  return out;
}

std::string lower_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// An event before it is grouped into messages.
struct pending_event {
  event_time activity;
  std::string envelope;  // {"id","type","timestamp","body"}
};

struct tool_result {
  std::string input;   // JSON
  std::string output;  // JSON
  std::optional<std::string> error;  // the statusMessage when the tool failed
  int64_t duration_ms = 0;
};

// Builds one call: draws its facts and script, renders the turns into events, groups them into
// messages. Holds references into the generator; lives for one next_call().
class call_builder {
 public:
  call_builder(const generator_options& options, random_source& rng, uint64_t sequence)
      : options_(options), rng_(rng), sequence_(sequence) {}

  generated_call build(event_time start);

 private:
  void draw_plan_and_facts(event_time start);
  std::vector<turn_spec> script();
  std::vector<turn_spec> pad_with_fillers(std::vector<turn_spec> core, size_t target, bool keep_last);
  struct turn_text {
    std::string utterance;
    std::string reply;
    std::string tool;  // empty: the turn calls no tool
  };
  turn_text compose(const turn_spec& spec);
  std::vector<pending_event> render_turn(const turn_spec& spec, int n, event_time t0, event_time& last_activity);
  tool_result run_tool(std::string_view tool, bool fails, bool retry);
  std::string failure_reply(const std::string& error) const;
  void emit(std::vector<pending_event>& out, std::string_view envelope_id, std::string_view type,
            event_time activity, std::string_view body);
  // `conversation`: the elements of the generation's input messages array, as JSON.
  // An LLM call that failed: level ERROR with the provider's error, no output, no usage.
  void add_failed_generation(std::vector<pending_event>& out, const std::string& trace_id, const std::string& id,
                             event_time& t, std::string_view conversation, std::string_view error);
  void add_generation(std::vector<pending_event>& out, const std::string& trace_id, const std::string& id, int turn,
                      event_time& t, std::string_view conversation, std::string_view reply,
                      int64_t extra_input_tokens, bool picks_tool);
  std::vector<message> group(std::vector<std::vector<pending_event>>& turns);

  const generator_options& options_;
  random_source& rng_;
  uint64_t sequence_;
  call_plan plan_;
  call_facts facts_;
  bool transient_failure_ = false;  // fulfilled: the key tool fails once, then a retry succeeds
  int64_t cost_nanousd_ = 0;
};

void call_builder::draw_plan_and_facts(event_time start) {
  char id[64];
  const uint64_t tag = static_cast<uint64_t>(rng_.between(0, 0xffffffffLL));
  std::snprintf(id, sizeof id, "-%06llu-%08llx", static_cast<unsigned long long>(sequence_),
                static_cast<unsigned long long>(tag));
  plan_.session_id = options_.id_prefix + id;
  plan_.user_id = "+1555" + std::to_string(rng_.between(1'000'000, 9'999'999));

  const double intent_draw = rng_.unit();
  plan_.intent = intent_draw < 0.40   ? call_intent::book
                 : intent_draw < 0.55 ? call_intent::cancel
                 : intent_draw < 0.75 ? call_intent::reschedule
                                      : call_intent::question;
  const double outcome_draw = rng_.unit();
  double edge = options_.abandoned_fraction;
  if (outcome_draw < edge) {
    plan_.outcome = call_outcome::abandoned;
  } else if (outcome_draw < (edge += options_.tool_failure_fraction)) {
    plan_.outcome = call_outcome::tool_failed;
  } else if (outcome_draw < (edge += options_.transfer_fraction)) {
    plan_.outcome = call_outcome::transferred;
  } else if (outcome_draw < (edge += options_.agent_error_fraction)) {
    plan_.outcome = call_outcome::agent_error;
  } else {
    plan_.outcome = call_outcome::fulfilled;
  }
  if (start >= options_.incident_start && start < options_.incident_end && plan_.outcome != call_outcome::abandoned &&
      rng_.chance(options_.incident_failure_fraction))
    plan_.outcome = call_outcome::tool_failed;
  transient_failure_ = plan_.outcome == call_outcome::fulfilled && plan_.intent != call_intent::question &&
                       rng_.chance(0.12);

  call_facts& f = facts_;
  f.first = rng_.pick(first_names);
  f.last = rng_.pick(last_names);
  const int64_t birth_year = rng_.between(1940, 2005);
  const int64_t birth_month = rng_.between(1, 12);
  const int64_t birth_day = rng_.between(1, 28);
  f.dob = std::to_string(birth_year) + "-" + two_digits(static_cast<int>(birth_month)) + "-" +
          two_digits(static_cast<int>(birth_day));
  f.dob_spoken = std::string(months[birth_month - 1]) + " " + std::to_string(birth_day) + ", " +
                 std::to_string(birth_year);
  f.patient_id = "pat-" + std::to_string(rng_.between(10'000, 99'999));
  f.provider = rng_.pick(providers);
  f.insurance = rng_.pick(insurers);
  f.model = rng_.chance(0.15) ? &large_model : &mini_model;
  if (options_.agents > 1) {  // drawn only then: one agent leaves every other draw as it was
    char agent[48];
    std::snprintf(agent, sizeof agent, "clinic-scheduler-%04lld",
                  static_cast<long long>(rng_.between(0, static_cast<int64_t>(options_.agents) - 1)));
    f.agent = agent;
  }

  const int64_t today = start.millis() / ms_per_day;
  const int target = static_cast<int>(rng_.between(1, 5));  // Monday..Friday
  int ahead = (target - weekday_of(today) + 7) % 7;
  if (ahead == 0) ahead = 7;
  f.weekday = weekdays[target];
  const bool morning = rng_.chance(0.5);
  f.part = morning ? "morning" : "afternoon";
  const int first_minute = static_cast<int>(rng_.between(0, 6)) * 30 + (morning ? 8 * 60 : 13 * 60);
  const int second_minute = first_minute + static_cast<int>(rng_.between(1, 3)) * 30;
  f.slot_a = slot_text(today + ahead, first_minute);
  f.slot_b = slot_text(today + ahead, second_minute);
  f.time_a = spoken_time(first_minute);
  f.time_b = spoken_time(second_minute);

  int64_t existing_day = today + rng_.between(1, 10);
  if (weekday_of(existing_day) == 6) existing_day += 2;  // the clinic books no weekend slots
  if (weekday_of(existing_day) == 0) existing_day += 1;
  const int existing_minute = static_cast<int>(rng_.between(16, 33)) * 30;  // 8:00 .. 16:30
  f.existing_slot = slot_text(existing_day, existing_minute);
  f.existing_day = weekdays[weekday_of(existing_day)];
  f.existing_appointment = "apt-" + std::to_string(rng_.between(100'000, 999'999));
  f.new_appointment = "apt-" + std::to_string(rng_.between(100'000, 999'999));
}

std::vector<turn_spec> call_builder::pad_with_fillers(std::vector<turn_spec> core, size_t target, bool keep_last) {
  // Fillers go after the opening and, when keep_last, before the final turn.
  while (core.size() < target) {
    const int64_t last_slot = static_cast<int64_t>(core.size()) - (keep_last ? 1 : 0);
    const int64_t at = rng_.between(1, std::max<int64_t>(1, last_slot));
    core.insert(core.begin() + at, turn_spec{step::filler});
  }
  return core;
}

std::vector<turn_spec> call_builder::script() {
  const call_intent intent = plan_.intent;
  const bool question = intent == call_intent::question;
  const bool needs_slot = intent == call_intent::book || intent == call_intent::reschedule;

  std::vector<turn_spec> before_commit{{step::opening}};
  if (question) {
    static constexpr topic topics[] = {topic::hours, topic::address, topic::insurance, topic::parking};
    before_commit.back().about = rng_.pick(topics);
  } else {
    before_commit.push_back({step::identify});
    if (needs_slot) before_commit.push_back({step::availability});
  }

  if (plan_.outcome == call_outcome::abandoned) {
    const size_t turns = static_cast<size_t>(rng_.between(1, 3));
    auto turns_list = pad_with_fillers(std::move(before_commit), turns, false);
    turns_list.resize(turns);
    return turns_list;
  }

  std::vector<turn_spec> core = std::move(before_commit);
  bool keep_last = true;
  switch (plan_.outcome) {
    case call_outcome::fulfilled:
      if (question) {
        const int64_t follow_ups = rng_.between(0, 2);
        for (int64_t i = 0; i < follow_ups; ++i) {
          static constexpr topic topics[] = {topic::hours, topic::address, topic::insurance, topic::parking,
                                             topic::insurance_check};
          core.push_back({step::follow_up, false, rng_.pick(topics)});
        }
      } else if (transient_failure_) {
        core.push_back({step::commit, true});
        core.push_back({step::retry, false});
      } else {
        core.push_back({step::commit, false});
      }
      keep_last = rng_.chance(0.8);
      if (keep_last) core.push_back({step::closing});
      break;
    case call_outcome::tool_failed:
      if (question) {
        core.push_back({step::follow_up, true, topic::insurance_check});
      } else {
        core.push_back({step::commit, true});
      }
      if (rng_.chance(0.5)) core.push_back({step::retry, true, topic::insurance_check});
      core.push_back({step::give_up});
      break;
    case call_outcome::transferred:
      if (!question && rng_.chance(0.5)) core.push_back({step::commit, true});
      core.push_back({step::escalate});
      break;
    case call_outcome::agent_error:
      // The next step would have done the work; the model fails there instead.
      core.push_back({step::agent_failure});
      break;
    case call_outcome::abandoned:
      break;  // handled above
  }
  const size_t turns = std::max(static_cast<size_t>(rng_.between(4, 8)), core.size());
  return pad_with_fillers(std::move(core), turns, keep_last);
}

tool_result call_builder::run_tool(std::string_view tool, bool fails, bool retry) {
  const call_facts& f = facts_;
  tool_result r;
  json_writer in(r.input);
  json_writer out(r.output);
  const std::string& slot = retry ? f.slot_b : f.slot_a;
  const std::string full_name = f.first + " " + f.last;
  if (tool == "lookup_patient") {
    in.open_object().field("name", full_name).field("date_of_birth", f.dob).field("phone", plan_.user_id).close_object();
    out.open_object().field("patient_id", f.patient_id).field("name", full_name).field("insurance", f.insurance);
    static constexpr const char* errors[] = {"upstream timeout", "records service unavailable"};
    if (fails) r.error = rng_.pick(errors);
  } else if (tool == "check_availability") {
    in.open_object().field("date", f.slot_a.substr(0, 10)).field("provider", f.provider).field("part_of_day", f.part);
    in.close_object();
    out.open_object().key("slots").open_array().value(f.slot_a).value(f.slot_b).close_array();
  } else if (tool == "schedule_appointment") {
    in.open_object().field("patient_id", f.patient_id).field("provider", f.provider).field("slot", slot);
    in.field("reason", "check-up").close_object();
    out.open_object().field("appointment_id", f.new_appointment).field("slot", slot).field("provider", f.provider);
    static constexpr const char* errors[] = {"slot no longer available", "upstream timeout",
                                             "EHR API returned 503 Service Unavailable"};
    if (fails) r.error = transient_failure_ ? errors[0] : rng_.pick(errors);
  } else if (tool == "cancel_appointment") {
    in.open_object().field("patient_id", f.patient_id).field("appointment_id", f.existing_appointment).close_object();
    out.open_object().field("cancelled", true).field("appointment_id", f.existing_appointment);
    static constexpr const char* errors[] = {"appointment not found", "upstream timeout"};
    if (fails) r.error = transient_failure_ ? errors[1] : rng_.pick(errors);
  } else {
    if (tool == "reschedule_appointment") {
      in.open_object().field("patient_id", f.patient_id).field("appointment_id", f.existing_appointment);
      in.field("new_slot", slot).close_object();
      out.open_object().field("appointment_id", f.existing_appointment).field("new_slot", slot);
      static constexpr const char* errors[] = {"slot no longer available", "upstream timeout"};
      if (fails) r.error = transient_failure_ ? errors[0] : rng_.pick(errors);
    } else {  // transfer_to_human
      in.open_object().field("queue", "front-desk").field("reason", "caller asked for a person").close_object();
      const int64_t wait_s = rng_.between(20, 180);
      out.open_object().field("transferred", true).field("queue", "front-desk").field("estimated_wait_s", wait_s);
    }
  }
  out.close_object();
  if (r.error) {
    r.output.clear();
    json_writer(r.output).open_object().field("error", *r.error).close_object();
  }
  // A timeout takes as long as the client's deadline; everything else answers quickly.
  const bool timeout = r.error && r.error->find("timeout") != std::string::npos;
  r.duration_ms = timeout ? rng_.between(2500, 5000) : rng_.between(80, 900);
  return r;
}

std::string call_builder::failure_reply(const std::string& error) const {
  if (error == "slot no longer available") return "I'm sorry, that slot was just taken.";
  if (error == "appointment not found") return "I'm sorry, I can't find that appointment in our system.";
  if (error == "records service unavailable") return "I'm sorry, I can't access your records right now.";
  return "I'm sorry, our system isn't responding right now.";
}

void call_builder::emit(std::vector<pending_event>& out, std::string_view envelope_id, std::string_view type,
                        event_time activity, std::string_view body) {
  pending_event e{activity, {}};
  e.envelope.reserve(body.size() + 128);
  json_writer(e.envelope)
      .open_object()
      .field("id", envelope_id)
      .field("type", type)
      .field("timestamp", format_iso8601(activity))
      .raw_field("body", body)
      .close_object();
  out.push_back(std::move(e));
  ++plan_.events;
  plan_.first_event = plan_.events == 1 ? activity : std::min(plan_.first_event, activity);
  plan_.last_event = plan_.events == 1 ? activity : std::max(plan_.last_event, activity);
}

void call_builder::add_generation(std::vector<pending_event>& out, const std::string& trace_id, const std::string& id,
                                  int turn, event_time& t, std::string_view conversation, std::string_view reply,
                                  int64_t extra_input_tokens, bool picks_tool) {
  const event_time start = t + std::chrono::milliseconds(rng_.between(5, 120));
  const int64_t latency_ms = rng_.between(300, 1500);
  const int64_t first_token_ms = latency_ms * rng_.between(25, 60) / 100;
  const event_time end = start + std::chrono::milliseconds(latency_ms);
  const int64_t input_tokens = 380 + 70 * (turn - 1) + rng_.between(0, 40) + extra_input_tokens;
  const int64_t output_tokens = picks_tool ? rng_.between(15, 40) : rng_.between(12, 70);
  const model_price& price = *facts_.model;
  const int64_t cost = input_tokens * price.nanousd_per_input_token + output_tokens * price.nanousd_per_output_token;
  plan_.generations += 1;
  plan_.input_tokens += input_tokens;
  plan_.output_tokens += output_tokens;
  cost_nanousd_ += cost;

  auto opening_fields = [&](json_writer& w) {
    w.field("startTime", format_iso8601(start))
        .field("model", price.name)
        .raw_field("modelParameters", R"({"temperature":0.2,"max_tokens":256})")
        .key("input")
        .open_object()
        .key("messages")
        .open_array()
        .raw(conversation)
        .close_array()
        .close_object()
        .field("environment", "production");
  };
  auto closing_fields = [&](json_writer& w) {
    w.field("endTime", format_iso8601(end))
        .field("completionStartTime", format_iso8601(start + std::chrono::milliseconds(first_token_ms)))
        .key("output")
        .open_object()
        .field("role", "assistant")
        .field("content", reply)
        .close_object()
        .key("usageDetails")
        .open_object()
        .field("input", input_tokens)
        .field("output", output_tokens)
        .close_object()
        .key("costDetails")
        .open_object()
        .raw_field("total", usd_text(cost))
        .close_object();
  };
  std::string body;
  body.reserve(conversation.size() + reply.size() + 512);
  json_writer w(body);
  w.open_object().field("id", id).field("traceId", trace_id).field("name", "chat");
  if (rng_.chance(0.3)) {
    // Streaming SDKs send the call when it starts and amend it when it ends.
    opening_fields(w);
    w.close_object();
    emit(out, id + "-create", "generation-create", start, body);
    body.clear();
    json_writer u(body);
    u.open_object().field("id", id).field("traceId", trace_id);
    closing_fields(u);
    u.close_object();
    emit(out, id + "-update", "generation-update", end, body);
  } else {
    opening_fields(w);
    closing_fields(w);
    w.close_object();
    emit(out, id + "-create", "generation-create", end, body);
  }
  t = end;
}

void call_builder::add_failed_generation(std::vector<pending_event>& out, const std::string& trace_id,
                                         const std::string& id, event_time& t, std::string_view conversation,
                                         std::string_view error) {
  const event_time start = t + std::chrono::milliseconds(rng_.between(5, 120));
  const event_time end = start + std::chrono::milliseconds(rng_.between(200, 3000));
  plan_.generations += 1;
  plan_.llm_errors += 1;
  std::string body;
  json_writer w(body);
  w.open_object()
      .field("id", id)
      .field("traceId", trace_id)
      .field("name", "chat")
      .field("startTime", format_iso8601(start))
      .field("endTime", format_iso8601(end))
      .field("model", facts_.model->name)
      .key("input")
      .open_object()
      .key("messages")
      .open_array()
      .raw(conversation)
      .close_array()
      .close_object()
      .field("level", "ERROR")
      .field("statusMessage", error)
      .field("environment", "production")
      .close_object();
  emit(out, id + "-create", "generation-create", end, body);
  t = end;
}

call_builder::turn_text call_builder::compose(const turn_spec& spec) {
  const call_facts& f = facts_;
  const call_intent intent = plan_.intent;
  turn_text out;
  auto ask = [&](topic about) {
    switch (about) {
      case topic::hours:
        out.reply = "We're open Monday to Friday from 8 AM to 6 PM, and Saturdays from 9 AM to noon.";
        return fill(rng_.pick(hours_questions), f);
      case topic::address:
        out.reply = "We're at 1200 Riverside Drive, Suite 300, across from the public library.";
        return fill(rng_.pick(address_questions), f);
      case topic::insurance:
        out.reply = "Yes, we accept " + f.insurance + ". Please bring your card to your visit.";
        return fill(rng_.pick(insurance_questions), f);
      case topic::parking:
        out.reply = "There's free parking behind the building; the entrance is on Elm Street.";
        return fill(rng_.pick(parking_questions), f);
      case topic::insurance_check:
        out.tool = "lookup_patient";
        out.reply = "I see " + f.insurance + " on file for you, and we accept it.";
        return fill(rng_.pick(insurance_checks), f);
    }
    return std::string();
  };

  switch (spec.kind) {
    case step::opening: {
      const std::string greeting = rng_.pick(greetings);
      switch (intent) {
        case call_intent::book: out.utterance = greeting + fill(rng_.pick(book_openings), f); break;
        case call_intent::cancel: out.utterance = greeting + fill(rng_.pick(cancel_openings), f); break;
        case call_intent::reschedule: out.utterance = greeting + fill(rng_.pick(reschedule_openings), f); break;
        case call_intent::question: out.utterance = greeting + ask(spec.about); break;
      }
      if (intent != call_intent::question)
        out.reply = "I can help with that. May I have your full name and date of birth?";
      break;
    }
    case step::follow_up: {
      const std::string prefix = rng_.pick(follow_up_prefixes);
      out.utterance = prefix + lower_first(ask(spec.about));
      break;
    }
    case step::identify:
      out.utterance = fill(rng_.pick(identify_utterances), f);
      out.tool = "lookup_patient";
      switch (intent) {
        case call_intent::cancel:
          out.reply = "Thanks, " + f.first + ". I see your appointment with " + f.provider + " on " +
                      f.existing_slot + ". Shall I cancel it?";
          break;
        case call_intent::reschedule:
          out.reply = "Thanks, " + f.first + ". I see your appointment on " + f.existing_slot +
                      ". Which day would you like instead?";
          break;
        default: out.reply = "Thanks, " + f.first + ". Which day would suit you?"; break;
      }
      break;
    case step::availability:
      out.utterance = fill(rng_.pick(availability_utterances), f);
      out.tool = "check_availability";
      out.reply = "On " + f.weekday + " I have " + f.time_a + " or " + f.time_b + ". Which would you prefer?";
      break;
    case step::commit:
    case step::retry: {
      if (intent == call_intent::question) {  // only a retry of the insurance lookup
        out.utterance = rng_.pick(plain_retries);
        out.tool = "lookup_patient";
        out.reply = "I see " + f.insurance + " on file for you, and we accept it.";
        break;
      }
      out.tool = std::string(key_tool(intent));
      const bool retry = spec.kind == step::retry;
      if (retry) {
        out.utterance = intent == call_intent::cancel ? std::string(rng_.pick(plain_retries))
                                                      : fill(rng_.pick(slot_retries), f);
      } else if (intent == call_intent::book) {
        out.utterance = fill(rng_.pick(book_commits), f);
      } else if (intent == call_intent::cancel) {
        out.utterance = rng_.pick(cancel_commits);
      } else {
        out.utterance = fill(rng_.pick(reschedule_commits), f);
      }
      const std::string& slot = retry ? f.slot_b : f.slot_a;
      if (intent == call_intent::book) {
        out.reply = "You're booked with " + f.provider + " on " + slot + ". Your confirmation number is " +
                    f.new_appointment + ".";
      } else if (intent == call_intent::cancel) {
        out.reply = "Done — your appointment on " + f.existing_slot + " is cancelled.";
      } else {
        out.reply = "All set. Your appointment is now on " + slot + ".";
      }
      break;
    }
    case step::filler: {
      const exchange& e = rng_.pick(fillers);
      out.utterance = e.user;
      out.reply = e.agent;
      break;
    }
    case step::closing:
      out.utterance = rng_.pick(closings);
      out.reply = rng_.pick(closing_replies);
      break;
    case step::escalate:
      out.utterance = rng_.pick(escalations);
      out.tool = "transfer_to_human";
      out.reply = "Of course. I'm transferring you to our front desk now.";
      break;
    case step::give_up:
      out.utterance = rng_.pick(give_ups);
      out.reply = "I'm sorry I couldn't complete that today. Please call back later or use our online portal.";
      break;
    case step::agent_failure:
      out.utterance = intent == call_intent::question ? "Are you still there? Can you hear me?"
                                                      : "Yes, that works for me. Please go ahead.";
      out.reply = "I'm sorry, I'm having technical difficulties right now. Please call back in a few minutes.";
      break;
  }
  return out;
}

std::vector<pending_event> call_builder::render_turn(const turn_spec& spec, int n, event_time t0,
                                                     event_time& last_activity) {
  const std::string trace_id = plan_.session_id + "-t" + std::to_string(n);
  turn_text text = compose(spec);
  const std::string& utterance = text.utterance;
  const std::string& tool = text.tool;
  std::string& reply = text.reply;

  std::vector<pending_event> events;
  event_time t = t0;
  // The input messages of the turn's generations: system, user[, assistant, tool].
  static const std::string system_message = [] {
    std::string m;
    append_message(m, "system", system_prompt);
    return m;
  }();
  std::string conversation = system_message;
  append_message(conversation, "user", utterance);

  if (spec.kind == step::agent_failure) {
    static constexpr const char* llm_errors[] = {"429 Too Many Requests: rate limit exceeded",
                                                 "upstream model timeout after 30s", "502 Bad Gateway from model provider"};
    add_failed_generation(events, trace_id, trace_id + "-gen1", t, conversation, rng_.pick(llm_errors));
  } else if (tool.empty()) {
    add_generation(events, trace_id, trace_id + "-gen1", n, t, conversation, reply, 0, false);
  } else {
    const std::string interim = rng_.pick(interim_replies);
    add_generation(events, trace_id, trace_id + "-gen1", n, t, conversation, interim, 0, true);
    const tool_result result = run_tool(tool, spec.tool_fails, spec.kind == step::retry);
    const event_time tool_start = t + std::chrono::milliseconds(rng_.between(5, 30));
    const event_time tool_end = tool_start + std::chrono::milliseconds(result.duration_ms);
    std::string body;
    json_writer w(body);
    w.open_object()
        .field("id", trace_id + "-tool1")
        .field("traceId", trace_id)
        .field("name", tool)
        .field("startTime", format_iso8601(tool_start))
        .field("endTime", format_iso8601(tool_end))
        .raw_field("input", result.input)
        .raw_field("output", result.output)
        .field("level", result.error ? "ERROR" : "DEFAULT");
    if (result.error) {
      w.field("statusMessage", *result.error);
      reply = failure_reply(*result.error);
      ++plan_.tool_errors;
    }
    w.field("environment", "production").close_object();
    ++plan_.tool_calls;
    emit(events, trace_id + "-tool1-create", "tool-create", tool_end, body);
    t = tool_end;
    append_message(conversation, "assistant", interim);
    append_message(conversation, "tool", result.output, tool);
    const int64_t tool_tokens = rng_.between(40, 120);
    add_generation(events, trace_id, trace_id + "-gen2", n, t, conversation, reply, tool_tokens, false);
  }

  std::string trace;
  json_writer(trace)
      .open_object()
      .field("id", trace_id)
      .field("timestamp", format_iso8601(t0))
      .field("name", "turn")
      .field("sessionId", plan_.session_id)
      .field("userId", plan_.user_id)
      .field("input", utterance)
      .field("output", reply)
      .key("metadata")
      .open_object()
      .field("agent", facts_.agent)
      .field("channel", "voice")
      .field("turn", n)
      .close_object()
      .field("environment", "production")
      .close_object();
  // Emitted last because its output is the final reply, but it is the turn's first event.
  emit(events, trace_id + "-create", "trace-create", t0, trace);
  std::rotate(events.begin(), events.end() - 1, events.end());
  last_activity = t;
  return events;
}

std::vector<message> call_builder::group(std::vector<std::vector<pending_event>>& turns) {
  const int64_t max_delay_us = options_.max_shuffle.count();
  std::vector<message> out;
  auto add = [&](std::vector<pending_event>::iterator first, std::vector<pending_event>::iterator last,
                 bool as_batch, const std::string& trace_id) {
    message m;
    m.send_at = first->activity;
    event_time earliest = first->activity;
    for (auto it = first; it != last; ++it) earliest = std::min(earliest, it->activity);
    if (as_batch) {
      json_writer w(m.payload);
      w.open_object().key("batch").open_array();
      for (auto it = first; it != last; ++it) {
        m.send_at = std::max(m.send_at, it->activity);
        w.raw(it->envelope);
      }
      w.close_array().close_object();
    } else {
      m.payload = std::move(first->envelope);
    }
    switch (options_.keys) {
      case key_mode::session_id: m.key = plan_.session_id; break;
      case key_mode::trace_id: m.key = trace_id; break;
      case key_mode::none: break;
    }
    const event_time activity = m.send_at;
    // Every event of the message must go out at most max_shuffle after its own activity: a batch
    // already holds its earlier events back by its span, so only the rest may be added as delay.
    const int64_t room_us = std::max<int64_t>(0, max_delay_us - (activity - earliest).count());
    int64_t delay_us = 0;
    if (rng_.chance(options_.shuffle_fraction) && room_us > 0) delay_us = rng_.between(1, room_us);
    m.send_at = activity + duration{delay_us};
    const bool duplicate = rng_.chance(options_.duplicate_fraction);
    out.push_back(m);
    if (duplicate) {
      // A retry: same bytes, sent no earlier than the original and within the same bound.
      const int64_t retry_delay_us = rng_.between(delay_us, std::max(delay_us, room_us));
      m.send_at = activity + duration{retry_delay_us};
      out.push_back(std::move(m));
    }
  };

  for (size_t i = 0; i < turns.size(); ++i) {
    auto& events = turns[i];
    const std::string trace_id = plan_.session_id + "-t" + std::to_string(i + 1);
    if (rng_.chance(options_.batch_fraction)) {
      // An SDK flushing every few events, and at least every max_shuffle: a batch never spans
      // more event time than the stream's out-of-orderness bound.
      auto it = events.begin();
      while (it != events.end()) {
        const int64_t wanted = std::min<int64_t>(rng_.between(1, 4), events.end() - it);
        auto end = it + 1;
        event_time lo = it->activity, hi = it->activity;
        while (end != it + wanted) {
          event_time a = end->activity;
          if (std::max(hi, a) - std::min(lo, a) > options_.max_shuffle) break;
          lo = std::min(lo, a);
          hi = std::max(hi, a);
          ++end;
        }
        add(it, end, true, trace_id);
        it = end;
      }
    } else {
      for (auto it = events.begin(); it != events.end(); ++it) add(it, it + 1, false, trace_id);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const message& a, const message& b) { return a.send_at < b.send_at; });
  return out;
}

generated_call call_builder::build(event_time start) {
  const event_time t_start = event_time::from_millis(start.millis());
  draw_plan_and_facts(t_start);
  const std::vector<turn_spec> turns = script();
  plan_.traces = static_cast<int>(turns.size());

  const int64_t interval_ms = std::max<int64_t>(1, options_.turn_interval.count() / 1000);
  std::vector<std::vector<pending_event>> events;
  events.reserve(turns.size());
  event_time t = t_start;
  event_time last_activity = t_start;
  for (size_t i = 0; i < turns.size(); ++i) {
    if (i > 0) t = last_activity + std::chrono::milliseconds(std::max<int64_t>(1, interval_ms * rng_.between(50, 150) / 100));
    events.push_back(render_turn(turns[i], static_cast<int>(i + 1), t, last_activity));
  }

  plan_.hangup = plan_.outcome != call_outcome::abandoned || rng_.chance(0.25);
  if (plan_.hangup) {
    const event_time at =
        last_activity + std::chrono::milliseconds(std::max<int64_t>(1, interval_ms * rng_.between(10, 100) / 100));
    const std::string trace_id = plan_.session_id + "-t" + std::to_string(turns.size());
    const char* reason = plan_.outcome == call_outcome::transferred ? "transferred"
                         : plan_.outcome == call_outcome::abandoned ? "line_dropped"
                         : plan_.outcome == call_outcome::agent_error ? "agent_error"
                                                                    : "caller_hung_up";
    std::string body;
    json_writer(body)
        .open_object()
        .field("id", trace_id + "-end")
        .field("traceId", trace_id)
        .field("name", options_.end_marker)
        .field("startTime", format_iso8601(at))
        .key("metadata")
        .open_object()
        .field("reason", reason)
        .close_object()
        .field("environment", "production")
        .close_object();
    emit(events.back(), trace_id + "-end-create", "event-create", at, body);
  }

  generated_call call;
  call.messages = group(events);
  plan_.cost_usd = static_cast<double>(cost_nanousd_) / 1e9;
  call.plan = std::move(plan_);
  return call;
}

}  // namespace

std::string_view to_string(call_intent i) {
  switch (i) {
    case call_intent::book: return "book";
    case call_intent::cancel: return "cancel";
    case call_intent::reschedule: return "reschedule";
    case call_intent::question: return "question";
  }
  return "unknown";
}

std::string_view to_string(call_outcome o) {
  switch (o) {
    case call_outcome::fulfilled: return "fulfilled";
    case call_outcome::tool_failed: return "tool_failed";
    case call_outcome::transferred: return "transferred";
    case call_outcome::abandoned: return "abandoned";
    case call_outcome::agent_error: return "agent_error";
  }
  return "unknown";
}

std::string_view to_string(key_mode k) {
  switch (k) {
    case key_mode::session_id: return "session_id";
    case key_mode::trace_id: return "trace_id";
    case key_mode::none: return "none";
  }
  return "unknown";
}

std::string_view key_tool(call_intent i) {
  switch (i) {
    case call_intent::book: return "schedule_appointment";
    case call_intent::cancel: return "cancel_appointment";
    case call_intent::reschedule: return "reschedule_appointment";
    case call_intent::question: return "";
  }
  return "";
}

std::optional<std::string> validate(const generator_options& o) {
  const std::pair<const char*, double> fractions[] = {{"abandoned_fraction", o.abandoned_fraction},
                                                      {"tool_failure_fraction", o.tool_failure_fraction},
                                                      {"transfer_fraction", o.transfer_fraction},
                                                      {"agent_error_fraction", o.agent_error_fraction},
                                                      {"duplicate_fraction", o.duplicate_fraction},
                                                      {"shuffle_fraction", o.shuffle_fraction},
                                                      {"batch_fraction", o.batch_fraction},
                                                      {"incident_failure_fraction", o.incident_failure_fraction}};
  for (const auto& [name, value] : fractions) {
    if (!(value >= 0.0 && value <= 1.0)) return std::string(name) + ": must be in [0, 1]";
  }
  if (o.abandoned_fraction + o.tool_failure_fraction + o.transfer_fraction + o.agent_error_fraction > 1.0)
    return std::string(
        "abandoned_fraction + tool_failure_fraction + transfer_fraction + agent_error_fraction: must not exceed 1");
  if (o.max_shuffle.count() < 0) return std::string("max_shuffle: must not be negative");
  if (o.agents < 1 || o.agents > 100000) return std::string("agents: must be in 1..100000");
  if (o.turn_interval < std::chrono::milliseconds(1)) return std::string("turn_interval: must be at least 1 ms");
  if (o.end_marker.empty()) return std::string("end_marker: must not be empty");
  if (o.id_prefix.empty()) return std::string("id_prefix: must not be empty");
  for (char c : o.id_prefix) {
    if (static_cast<unsigned char>(c) <= ' ') return std::string("id_prefix: must not contain whitespace or control characters");
  }
  return std::nullopt;
}

call_generator::call_generator(generator_options options) : options_(std::move(options)), engine_(options_.seed) {
  if (auto error = validate(options_)) throw std::invalid_argument("sim::generator_options." + *error);
}

generated_call call_generator::next_call(event_time start) {
  random_source rng(engine_);
  call_builder builder(options_, rng, calls_);
  ++calls_;
  return builder.build(start);
}

std::vector<message> generate_stream(call_generator& generator, size_t min_events, event_time start,
                                     duration spacing, std::vector<call_plan>* plans) {
  std::vector<message> out;
  size_t events = 0;
  for (int64_t i = 0; events < min_events; ++i) {
    generated_call call = generator.next_call(start + spacing * i);
    events += static_cast<size_t>(call.plan.events);
    out.insert(out.end(), std::make_move_iterator(call.messages.begin()),
               std::make_move_iterator(call.messages.end()));
    if (plans) plans->push_back(std::move(call.plan));
  }
  std::stable_sort(out.begin(), out.end(), [](const message& a, const message& b) { return a.send_at < b.send_at; });
  return out;
}

}  // namespace tw::sim
