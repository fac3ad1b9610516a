#!/usr/bin/env bash
# Installs the Debian bookworm packages tracewatch builds, tests and runs with.
# Idempotent: does nothing when every package is already installed. Works as root or via sudo.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config ca-certificates
  # sanitizer builds and the fuzz harness (tools/test, tests/fuzz): clang and its runtimes.
  # libclang-rt-14-dev holds libFuzzer and the ASan/UBSan/TSan runtimes; clang-14 only recommends
  # it, and recommends are not installed below.
  clang-14 libclang-rt-14-dev
  # libraries (DESIGN.md §11)
  libcaf-dev librdkafka-dev librocksdb-dev nlohmann-json3-dev catch2
  libsimdjson-dev libre2-dev libyaml-cpp-dev libcpp-httplib-dev libspdlog-dev libcli11-dev
  # the keyed hash of PII redaction is HMAC-SHA256 from libcrypto (privacy/keyed_hash.cpp)
  libssl-dev
  # the tracewatch binary allocates with jemalloc (CMakeLists.txt; docs/benchmarks.md)
  libjemalloc-dev
  # the alert notification tests run a real Alertmanager on loopback (tests/support/alertmanager_process.hpp)
  prometheus-alertmanager
  # the metrics end-to-end test runs a real Prometheus server on loopback, and promtool checks the
  # shipped rules file (tests/e2e/prometheus_test.cpp, docs/prometheus/)
  prometheus
  # the status page's end-to-end test loads it in headless Chromium (tests/e2e/status_page_test.cpp)
  chromium
  # command-line Kafka client, used by docs and by the demo's instructions
  kcat
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
