// The loop's channel (docs/design.md §4.2, "Event loops"): posts from many
// threads without a lock, taken whole by one consumer in arrival order,
// refused or discarded once closed, and a channel that may be destroyed as
// soon as the consumer has what it waits for.
#include <connectors/detail/channel.hpp>

#include "helpers/without_hanging.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace {

using connectors::detail::Channel;
using connectors::detail::ChannelNode;
using connectors::testing::without_hanging;

struct Numbered final : ChannelNode {
  std::size_t poster = 0;
  std::size_t number = 0;
  std::atomic<int> delivered{0};
  std::atomic<int> discarded{0};
  void deliver() noexcept override { delivered.fetch_add(1); }
  void discard() noexcept override { discarded.fetch_add(1); }
};

constexpr auto forever = std::chrono::microseconds{std::chrono::hours{1}};

// Takes everything posted, delivering each node; returns how many.
std::size_t deliver_all(Channel& channel, std::vector<std::size_t>& next_of_poster) {
  std::size_t count = 0;
  for (ChannelNode* node = channel.take_all(); node != nullptr;) {
    ChannelNode* next = node->next_in_channel;
    auto& numbered = static_cast<Numbered&>(*node);
    // Arrival order: each poster's nodes come in the order it posted them.
    EXPECT_EQ(numbered.number, next_of_poster[numbered.poster]);
    next_of_poster[numbered.poster] = numbered.number + 1;
    node->deliver();
    ++count;
    node = next;
  }
  return count;
}

TEST(Channel, PostsOfManyThreadsArriveOnceEachInTheOrderOfEachPoster) {
  constexpr std::size_t posters = 4;
  constexpr std::size_t per_poster = 20'000;
  std::vector<std::vector<Numbered>> nodes(posters);
  for (std::size_t p = 0; p < posters; ++p) {
    nodes[p] = std::vector<Numbered>(per_poster);
    for (std::size_t i = 0; i < per_poster; ++i) {
      nodes[p][i].poster = p;
      nodes[p][i].number = i;
    }
  }
  Channel channel;
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < posters; ++p) {
    threads.emplace_back([&, p] {
      for (Numbered& node : nodes[p]) EXPECT_TRUE(channel.post(node));
    });
  }
  std::vector<std::size_t> next_of_poster(posters, 0);
  std::size_t received = 0;
  // Waits without a bound: a lost wake-up hangs here, and ctest's timeout
  // fails the test.
  while (received < posters * per_poster) {
    channel.wait_for_post(forever);
    received += deliver_all(channel, next_of_poster);
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(received, posters * per_poster);
  for (const auto& of_poster : nodes) {
    for (const Numbered& node : of_poster) {
      EXPECT_EQ(node.delivered.load(), 1);
      EXPECT_EQ(node.discarded.load(), 0);
    }
  }
}

// Ping-pong through two channels, each consumer sleeping without a spin
// before every post: a post that misses the sleeping consumer leaves both
// threads waiting (ctest's timeout fails the test).
TEST(Channel, ASleepingConsumerIsWokenByEveryPost) {
  constexpr int rounds = 2'000;
  Channel to_echo;
  Channel to_main;
  Numbered ping;
  Numbered pong;
  std::thread echo{[&] {
    for (int i = 0; i < rounds; ++i) {
      ChannelNode* taken = nullptr;
      while ((taken = to_echo.take_all()) == nullptr) to_echo.sleep_for_post(forever);
      EXPECT_EQ(taken, &ping);
      EXPECT_TRUE(to_main.post(pong));
    }
  }};
  for (int i = 0; i < rounds; ++i) {
    EXPECT_TRUE(to_echo.post(ping));
    ChannelNode* taken = nullptr;
    while ((taken = to_main.take_all()) == nullptr) to_main.sleep_for_post(forever);
    EXPECT_EQ(taken, &pong);
  }
  echo.join();
}

// Several posters each wait for their post to be taken before the next one,
// so the consumer goes back to sleep (without a spin) again and again while
// posters that saw it asleep are still on their way to wake it. A wake-up
// meant for an earlier sleep must not use up the next one: the consumer
// would then sleep through a later post (it did, in the first version of the
// lock-free channel, under load in CI).
TEST(Channel, AWakeUpMeantForAnEarlierSleepDoesNotHideALaterPost) {
  without_hanging([] {
    constexpr std::size_t posters = 3;
    constexpr std::size_t per_poster = 50'000;
    Channel channel;
    std::vector<Numbered> nodes(posters);
    std::vector<std::atomic<std::size_t>> taken(posters);
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < posters; ++p) {
      nodes[p].poster = p;
      threads.emplace_back([&, p] {
        for (std::size_t i = 0; i < per_poster; ++i) {
          nodes[p].number = i;
          EXPECT_TRUE(channel.post(nodes[p]));
          while (taken[p].load() != i + 1) std::this_thread::yield();
        }
      });
    }
    std::vector<std::size_t> next_of_poster(posters, 0);
    std::size_t received = 0;
    while (received < posters * per_poster) {
      const std::size_t delivered = deliver_all(channel, next_of_poster);
      if (delivered == 0) {
        channel.sleep_for_post(forever);
        continue;
      }
      received += delivered;
      for (std::size_t p = 0; p < posters; ++p) taken[p].store(next_of_poster[p]);
    }
    for (std::thread& thread : threads) thread.join();
  });
}

TEST(Channel, OnceClosedItDiscardsWhatIsPendingInArrivalOrderAndRefusesPosts) {
  Channel channel;
  Numbered first;
  Numbered second;
  EXPECT_TRUE(channel.post(first));
  EXPECT_TRUE(channel.post(second));
  channel.close();
  EXPECT_EQ(first.discarded.load(), 1);
  EXPECT_EQ(second.discarded.load(), 1);
  EXPECT_FALSE(channel.has_posts());
  EXPECT_EQ(channel.take_all(), nullptr);
  Numbered late;
  EXPECT_FALSE(channel.post(late));  // refused: the caller disposes of it
  EXPECT_EQ(late.discarded.load(), 0);
  EXPECT_EQ(channel.take_all(), nullptr);
}

// Rounds of three posters, one post each, against a consumer that waits with
// `wait` and destroys the channel as soon as it has taken the last post, while
// a poster may still be inside post (AddressSanitizer and ThreadSanitizer
// watch the channel's memory).
template <class Wait>
void destroy_right_after_the_last_post(Wait wait) {
  constexpr int rounds = 300;
  constexpr std::size_t posters = 3;
  for (int round = 0; round < rounds; ++round) {
    auto channel = std::make_unique<Channel>();
    std::vector<Numbered> nodes(posters);
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < posters; ++p) {
      nodes[p].poster = p;
      threads.emplace_back(
          [poster_channel = channel.get(), &node = nodes[p]] { EXPECT_TRUE(poster_channel->post(node)); });
    }
    std::vector<std::size_t> next_of_poster(posters, 0);
    std::size_t received = 0;
    while (received < posters) {
      wait(*channel);
      received += deliver_all(*channel, next_of_poster);
    }
    channel.reset();
    for (std::thread& thread : threads) thread.join();
    for (const Numbered& node : nodes) EXPECT_EQ(node.delivered.load(), 1);
  }
}

// What a loop does with its pool calls: once it has every reply it is waiting
// for, it ends and its channel goes, while the thread of the last reply may
// still be inside post. A poster is done with the channel once its post is
// visible, and one that wakes the consumer is waited for by the consumer's
// sleep.
TEST(Channel, MayBeDestroyedAsSoonAsTheLastAwaitedPostHasBeenTaken) {
  destroy_right_after_the_last_post([](Channel& channel) { channel.wait_for_post(forever); });
}

// A consumer whose sleeps time out at once, again and again, while posters
// replace its sleeping mark: a sleep that timed out after a poster replaced
// the mark must wait for that poster's wake-up before it returns, or the
// consumer could destroy the channel under the poster.
TEST(Channel, ASleepThatTimesOutWaitsForThePosterThatIsWakingIt) {
  destroy_right_after_the_last_post([](Channel& channel) { channel.sleep_for_post(std::chrono::microseconds{1}); });
}

}  // namespace
