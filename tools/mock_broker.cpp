// tw_mock_broker: librdkafka's mock cluster (topics/kafka/mock_cluster.hpp) as a process of its
// own, so that a test can freeze it (SIGSTOP/SIGCONT), take it down and bring it back, or kill it,
// while tracewatch and the test's own clients talk to it over loopback like to any broker.
//
// What it proves by itself: nothing; it is the broker of the fault suite (docs/operations.md,
// "The fault suite"). The tests built on it prove what they say at their tops.
//
// Protocol (line based, for a parent holding its stdin and stdout as pipes):
//   stdout, first line:  the bootstrap address, host:port[,host:port...]
//   stdin commands, each answered by one stdout line ("ok ..." or "error ..."):
//     down                    every broker closes its connections and refuses new ones
//     up                      they accept connections again
//     create NAME:PARTITIONS  creates a topic (replication factor 1)
//     quit                    exits 0
//   End of stdin is `quit`: the broker never outlives a parent that went away. On Linux it also
//   asks for SIGKILL when its parent dies (a parent killed with SIGKILL closes no pipe in time
//   for a frozen broker).
//
// Usage: tw_mock_broker [--brokers N] [--topic NAME:PARTITIONS]...
// Exit codes: 0 quit · 1 the cluster could not start or a topic could not be created · 2 usage.
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "topics/kafka/mock_cluster.hpp"

namespace {

// NAME:PARTITIONS, partitions in 1..10000.
bool parse_topic(const std::string& spec, std::string& name, int& partitions) {
  auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) return false;
  name = spec.substr(0, colon);
  char* end = nullptr;
  long n = std::strtol(spec.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || n < 1 || n > 10000) return false;
  partitions = static_cast<int>(n);
  return true;
}

void usage() {
  std::fprintf(stderr,
               "usage: tw_mock_broker [--brokers N] [--topic NAME:PARTITIONS]...\n"
               "  prints the bootstrap address on stdout, then takes commands on stdin:\n"
               "  down | up | create NAME:PARTITIONS | quit\n");
}

void answer(const std::string& line) {
  std::cout << line << std::endl;  // flushed: the parent waits for it
}

}  // namespace

int main(int argc, char** argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
      if (brokers < 1 || brokers > 16) {
        usage();
        return 2;
      }
    } else if (a == "--topic" && i + 1 < argc) {
      std::pair<std::string, int> t;
      if (!parse_topic(argv[++i], t.first, t.second)) {
        usage();
        return 2;
      }
      topics.push_back(t);
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      usage();
      return 2;
    }
  }

  std::unique_ptr<tw::kafka::mock_cluster> cluster;
  if (auto st = tw::kafka::mock_cluster::start(brokers, cluster); !st.ok()) {
    std::fprintf(stderr, "tw_mock_broker: %s\n", st.message.c_str());
    return 1;
  }
  for (const auto& [name, partitions] : topics)
    if (auto st = cluster->create_topic(name, partitions); !st.ok()) {
      std::fprintf(stderr, "tw_mock_broker: %s\n", st.message.c_str());
      return 1;
    }
  answer(cluster->bootstrap_servers());

  for (std::string line; std::getline(std::cin, line);) {
    if (line == "quit") break;
    if (line == "down") {
      auto st = cluster->set_brokers_down();
      answer(st.ok() ? "ok down" : "error " + st.message);
    } else if (line == "up") {
      auto st = cluster->set_brokers_up();
      answer(st.ok() ? "ok up" : "error " + st.message);
    } else if (line.rfind("create ", 0) == 0) {
      std::string name;
      int partitions = 0;
      if (!parse_topic(line.substr(7), name, partitions)) {
        answer("error create needs NAME:PARTITIONS");
        continue;
      }
      auto st = cluster->create_topic(name, partitions);
      answer(st.ok() ? "ok create " + name : "error " + st.message);
    } else if (!line.empty()) {
      answer("error unknown command: " + line);
    }
  }
  answer("ok quit");
  return 0;
}
