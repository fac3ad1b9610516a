// Shutdown signals, handled synchronously: SIGINT and SIGTERM are blocked in every thread (call
// block_shutdown_signals() before starting any) and the main thread waits for them with a
// timeout. No code runs in signal-handler context.
#pragma once

#include <chrono>
#include <optional>

namespace tw::app {

void block_shutdown_signals();
// Waits up to `timeout` for SIGINT or SIGTERM; returns the signal number, or nullopt.
std::optional<int> wait_for_shutdown_signal(std::chrono::milliseconds timeout);

}  // namespace tw::app
