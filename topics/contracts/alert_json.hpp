// tracewatch.alert.v1: one state change of an alert (alerts/alerts.hpp alert_event; docs/topics.md;
// docs/schemas/tracewatch.alert.v1.json). Written by the alert stage to `topics.alerts`, keyed by
// alert_id; read back by the notifier (from its durable queue) and by `tracewatch alerts backtest
// --against`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "alerts/alerts.hpp"

namespace tw {

inline constexpr std::string_view alert_schema_v1 = "tracewatch.alert.v1";

std::string encode_alert_json(const alerts::alert_event& e);

// Decodes what encode_alert_json wrote; nullopt and `error` for anything else.
std::optional<alerts::alert_event> decode_alert_json(std::string_view json, std::string* error = nullptr);

}  // namespace tw
