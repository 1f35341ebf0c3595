// docs/connectors.md — several user threads, nested operations, re-entrance.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <atomic>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

class Block {
 public:
  connectors::Output<long> output{this, &Block::read};
  connectors::Input<long> input{this, &Block::write, output};
  connectors::Output<long>* other = nullptr;  // read by the getter, if set

 private:
  long read() const { return value_ + (other != nullptr ? (*other)() : 0); }
  void write(long value) { value_ = value; }
  long value_ = 0;
};

// A getter that hands part of its work to a helper thread.
class Helped {
 public:
  connectors::Output<long> output{this, &Helped::read};
  connectors::Input<long> input{this, &Helped::write, output};
  connectors::Output<long>* other = nullptr;  // read by the helper

 private:
  long read() const {
    auto part = std::async(std::launch::async, connectors::as_helper([this] { return (*other)(); }));
    return value_ + part.get();
  }
  void write(long value) { value_ = value; }
  long value_ = 0;
};
}  // namespace

int main() {
  // --- user threads
  Block head, tail;
  tail.input.connect(head.output);
  std::atomic<int> wrong{0};
  std::vector<std::thread> users;
  for (long user = 1; user <= 4; ++user) {
    users.emplace_back([&, user] {
      for (int i = 0; i < 50; ++i) {
        head.input(user);                // each operation is atomic...
        if (tail.output() < 1) ++wrong;  // ...and sees a consistent network
      }
    });
  }
  for (std::thread& user : users) user.join();
  CHECK(wrong == 0);
  // ---

  // --- another network from inside a method
  Block lookup;  // a network of its own
  lookup.input(10);
  Block user;
  user.other = &lookup.output;  // user's getter calls lookup.output()
  user.input(1);
  CHECK(user.output() == 11);
  // ---

  // --- re-entering the same network
  Block upstream, downstream;
  downstream.input.connect(upstream.output);
  upstream.other = &downstream.output;  // the upstream getter asks its own downstream
  bool refused = false;
  try {
    downstream.output();
  } catch (const std::logic_error&) {
    refused = true;
  }
  CHECK(refused);
  upstream.other = nullptr;
  CHECK(downstream.output() == 0);  // consistent afterwards
  // ---

  // --- a helper thread of a method
  Helped helped;
  helped.other = &lookup.output;  // another network: works
  helped.input(1);
  CHECK(helped.output() == 11);
  Block below;
  below.input.connect(helped.output);
  helped.other = &below.output;  // its own network: refused, not a deadlock
  helped.input(2);
  bool helper_refused = false;
  try {
    below.output();
  } catch (const std::logic_error&) {
    helper_refused = true;
  }
  CHECK(helper_refused);
  // ---
  return failures == 0 ? 0 : 1;
}
