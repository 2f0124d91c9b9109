// The libcurl multi client against a loopback cpp-httplib server: concurrency over
// keep-alive, the network codes, cancellation, shutdown, TLS and the fault hook.
#define CAF_SUITE http_client
#include <caf/test/unit_test.hpp>

#include "loopback_server.hpp"
#include "transport/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>
#include <vector>

using namespace mxsync::transport;
using mxsync::test::countdown;
using mxsync::test::loopback_server;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<loopback_server> plain_server() {
  return std::make_unique<loopback_server>(std::make_unique<httplib::Server>());
}

http_request post(std::string url, std::string body = "{}") {
  http_request request;
  request.url = std::move(url);
  request.body = std::move(body);
  request.headers = {{"Content-Type", "application/json"}};
  return request;
}

http_request slow(const loopback_server& server, int delay_ms) {
  auto request = post(server.url("/slow"));
  request.headers.emplace_back("X-Delay-Ms", std::to_string(delay_ms));
  return request;
}

/// Submits one request and waits for its response.
http_response fetch(http_client& client, http_request request, std::chrono::milliseconds limit = 10s) {
  std::mutex mutex;
  http_response result;
  countdown done{1};
  client.submit(std::move(request), [&](http_response response) {
    {
      std::lock_guard lock{mutex};
      result = std::move(response);
    }
    done.arrive();
  });
  if (!done.wait_for(limit))
    throw std::runtime_error("no completion in time");
  std::lock_guard lock{mutex};
  return result;
}

} // namespace

CAF_TEST(one request round trip) {
  auto server = plain_server();
  http_client client;
  auto response = fetch(client, post(server->url("/echo"), R"({"userid":"u"})"));
  CAF_CHECK_EQUAL(response.network_code, 0);
  CAF_CHECK_EQUAL(response.http_status, 200);
  CAF_CHECK_EQUAL(response.body, R"({"userid":"u"})");
  CAF_CHECK(response.content_type.starts_with("application/json"));
  CAF_CHECK(response.ok());
  CAF_CHECK_EQUAL(client.in_flight(), 0u);
}

CAF_TEST(five hundred concurrent requests share a few keep-alive connections) {
  auto server = plain_server();
  http_client_options options;
  options.max_parallel_transfers = 4;
  http_client client{options};
  constexpr int submitters = 4;
  constexpr int per_submitter = 125;
  constexpr int total = submitters * per_submitter;
  std::vector<std::atomic<int>> calls(total);
  std::atomic<int> good{0};
  std::mutex ids_mutex;
  std::vector<request_id> ids;
  countdown done{total};
  std::vector<std::thread> threads;
  for (int t = 0; t < submitters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_submitter; ++i) {
        int index = t * per_submitter + i;
        std::string body = R"({"n":")" + std::to_string(index) + R"("})";
        auto id = client.submit(post(server->url("/echo"), body), [&, index, body](http_response response) {
          calls[index].fetch_add(1);
          if (response.ok() && response.body == body)
            good.fetch_add(1);
          done.arrive();
        });
        std::lock_guard lock{ids_mutex};
        ids.push_back(id);
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CAF_REQUIRE(done.wait_for(60s));
  CAF_CHECK_EQUAL(good.load(), total);
  CAF_CHECK(std::all_of(calls.begin(), calls.end(), [](const auto& n) { return n.load() == 1; }));
  std::sort(ids.begin(), ids.end());
  CAF_CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end()); // ids are unique
  CAF_CHECK_LESS_OR_EQUAL(server->connections_seen(), 4u);
  CAF_MESSAGE(total << " requests over " << server->connections_seen() << " connections");
  // Give the last completion's bookkeeping a moment; then nothing is outstanding.
  for (int i = 0; i < 100 && client.in_flight() != 0; ++i)
    std::this_thread::sleep_for(1ms);
  CAF_CHECK_EQUAL(client.in_flight(), 0u);
}

CAF_TEST(large bodies over keep-alive) {
  auto server = plain_server();
  http_client_options options;
  options.accept_compression = false;
  options.max_parallel_transfers = 2;
  http_client client{options};
  std::string body(160 * 1024, 'x');
  constexpr int total = 200;
  std::atomic<int> good{0};
  countdown done{total};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < total; ++i)
    client.submit(post(server->url("/echo"), body), [&](http_response response) {
      if (response.ok() && response.body.size() == body.size())
        good.fetch_add(1);
      done.arrive();
    });
  CAF_REQUIRE(done.wait_for(60s));
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CAF_CHECK_EQUAL(good.load(), total);
  CAF_MESSAGE(total << " echoes of 160 KB in " << seconds << " s (" << total / seconds << " req/s)");
}

CAF_TEST(a request that outlives its timeout is 1014) {
  auto server = plain_server();
  http_client client;
  auto request = slow(*server, 2000);
  request.timeout = 150ms;
  auto response = fetch(client, request);
  CAF_CHECK_EQUAL(response.network_code, 1014);
  CAF_CHECK_LESS(response.elapsed, std::chrono::microseconds{1500ms});
  CAF_CHECK(!response.error_message.empty());
  // The default timeout of the client applies when the request has none.
  http_client_options options;
  options.default_timeout = 100ms;
  http_client quick{options};
  auto timed_out = fetch(quick, slow(*server, 2000));
  CAF_CHECK_EQUAL(timed_out.network_code, 1014);
}

CAF_TEST(a refused connection is 1016) {
  http_client client;
  auto port = mxsync::test::closed_loopback_port();
  auto response = fetch(client, post("http://127.0.0.1:" + std::to_string(port) + "/echo"));
  CAF_CHECK_EQUAL(response.network_code, 1016);
  CAF_CHECK_EQUAL(response.http_status, 0);
}

CAF_TEST(a status other than 200 is 1012 and keeps the body) {
  auto server = plain_server();
  http_client client;
  auto response = fetch(client, post(server->url("/status/500")));
  CAF_CHECK_EQUAL(response.network_code, 1012);
  CAF_CHECK_EQUAL(response.http_status, 500);
  CAF_CHECK_EQUAL(response.body, R"({"error":"boom"})");
  auto missing = fetch(client, post(server->url("/no/such/route")));
  CAF_CHECK_EQUAL(missing.network_code, 1012);
  CAF_CHECK_EQUAL(missing.http_status, 404);
}

CAF_TEST(cancellation completes with 1022 exactly once) {
  auto server = plain_server();
  http_client client;
  std::atomic<int> calls{0};
  std::atomic<int> code{-1};
  countdown done{1};
  auto id = client.submit(slow(*server, 3000), [&](http_response response) {
    calls.fetch_add(1);
    code = response.network_code;
    done.arrive();
  });
  std::this_thread::sleep_for(100ms); // in flight on the wire
  auto cancelled_at = std::chrono::steady_clock::now();
  client.cancel(id);
  CAF_REQUIRE(done.wait_for(5s));
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - cancelled_at, std::chrono::nanoseconds{1s});
  CAF_CHECK_EQUAL(code.load(), 1022);
  client.cancel(id);     // already completed: nothing happens
  client.cancel(999999); // unknown: nothing happens
  std::this_thread::sleep_for(50ms);
  CAF_CHECK_EQUAL(calls.load(), 1);

  // Cancelled before the I/O thread even picked it up.
  countdown early{1};
  std::atomic<int> early_code{-1};
  auto early_id = client.submit(slow(*server, 3000), [&](http_response response) {
    early_code = response.network_code;
    early.arrive();
  });
  client.cancel(early_id);
  CAF_REQUIRE(early.wait_for(5s));
  CAF_CHECK_EQUAL(early_code.load(), 1022);
  // The client still works afterwards.
  auto afterwards = fetch(client, post(server->url("/echo")));
  CAF_CHECK_EQUAL(afterwards.network_code, 0);
}

CAF_TEST(shutdown completes everything outstanding with 1022) {
  auto server = plain_server();
  http_client client;
  client.set_fault_hook([](request_id, const http_request& request) {
    fault_decision decision;
    if (request.url.find("held") != std::string::npos)
      decision.delay = 10s;
    return decision;
  });
  constexpr int total = 10;
  std::atomic<int> cancelled{0};
  std::atomic<int> calls{0};
  for (int i = 0; i < total / 2; ++i) {
    client.submit(slow(*server, 5000), [&](http_response response) {
      calls.fetch_add(1);
      cancelled += response.network_code == 1022;
    });
    client.submit(post(server->url("/echo?held")), [&](http_response response) {
      calls.fetch_add(1);
      cancelled += response.network_code == 1022;
    });
  }
  std::this_thread::sleep_for(100ms);
  CAF_CHECK_EQUAL(client.in_flight(), static_cast<std::size_t>(total));
  auto started = std::chrono::steady_clock::now();
  client.shutdown();
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - started, std::chrono::nanoseconds{2s});
  CAF_CHECK_EQUAL(calls.load(), total); // all delivered before shutdown returned
  CAF_CHECK_EQUAL(cancelled.load(), total);
  CAF_CHECK_EQUAL(client.in_flight(), 0u);
  client.shutdown(); // idempotent

  // After shutdown a request is refused at once with 1022.
  int late_code = -1;
  client.submit(post(server->url("/echo")), [&](http_response response) { late_code = response.network_code; });
  CAF_CHECK_EQUAL(late_code, 1022);
}

CAF_TEST(destroying the client cancels what is in flight) {
  auto server = plain_server();
  std::atomic<int> cancelled{0};
  {
    http_client client;
    for (int i = 0; i < 3; ++i)
      client.submit(slow(*server, 5000), [&](http_response response) {
        cancelled += response.network_code == 1022;
      });
    std::this_thread::sleep_for(50ms);
  }
  CAF_CHECK_EQUAL(cancelled.load(), 3);
}

CAF_TEST(a completion may submit and cancel) {
  auto server = plain_server();
  http_client client;
  countdown done{2};
  std::atomic<int> second_code{-1};
  client.submit(post(server->url("/echo"), "1"), [&](http_response first) {
    CAF_CHECK_EQUAL(first.network_code, 0);
    // Chained work from the I/O thread: submit a follow-up and cancel an unrelated id.
    client.submit(post(server->url("/echo"), "2"), [&](http_response second) {
      second_code = second.network_code;
      done.arrive();
    });
    client.cancel(424242);
    done.arrive();
  });
  CAF_REQUIRE(done.wait_for(10s));
  CAF_CHECK_EQUAL(second_code.load(), 0);
}

CAF_TEST(TLS verification fails against a self-signed server unless trusted or insecure) {
  mxsync::test::self_signed_certificate certificate;
  loopback_server server{std::make_unique<httplib::SSLServer>(certificate.certificate_file().c_str(),
                                                              certificate.key_file().c_str()),
                         true};
  {
    http_client verifying;
    auto response = fetch(verifying, post(server.url("/echo"), "secure"));
    CAF_CHECK_EQUAL(response.network_code, 1200);
    CAF_MESSAGE("verification failure: " << response.error_message);
  }
  {
    http_client_options options;
    options.insecure = true;
    http_client insecure{options};
    auto response = fetch(insecure, post(server.url("/echo"), "secure"));
    CAF_CHECK_EQUAL(response.network_code, 0);
    CAF_CHECK_EQUAL(response.body, "secure");
  }
  {
    http_client_options options;
    options.ca_file = certificate.certificate_file();
    http_client trusting{options};
    auto response = fetch(trusting, post(server.url("/echo"), "trusted"));
    CAF_CHECK_EQUAL(response.network_code, 0);
    CAF_CHECK_EQUAL(response.body, "trusted");
  }
}

CAF_TEST(the fault hook fails or delays requests before they are sent) {
  auto server = plain_server();
  http_client client;
  std::atomic<int> seen{0};
  client.set_fault_hook([&](request_id, const http_request& request) {
    seen.fetch_add(1);
    fault_decision decision;
    if (request.url.find("fail") != std::string::npos)
      decision.fail_with = 1014;
    if (request.url.find("delay") != std::string::npos)
      decision.delay = 200ms;
    return decision;
  });
  auto failed = fetch(client, post(server->url("/echo?fail")));
  CAF_CHECK_EQUAL(failed.network_code, 1014);
  CAF_CHECK_EQUAL(failed.http_status, 0);
  CAF_CHECK_EQUAL(server->connections_seen(), 0u); // nothing reached the server

  auto delayed = fetch(client, post(server->url("/echo?delay"), "late"));
  CAF_CHECK_EQUAL(delayed.network_code, 0);
  CAF_CHECK_EQUAL(delayed.body, "late");
  CAF_CHECK_GREATER_OR_EQUAL(delayed.elapsed, std::chrono::microseconds{200ms});

  auto delayed_failure = fetch(client, post(server->url("/echo?delay&fail")));
  CAF_CHECK_EQUAL(delayed_failure.network_code, 1014);
  CAF_CHECK_GREATER_OR_EQUAL(delayed_failure.elapsed, std::chrono::microseconds{200ms});

  // A delayed request can be cancelled while it waits.
  countdown done{1};
  std::atomic<int> code{-1};
  auto id = client.submit(post(server->url("/echo?delay")), [&](http_response response) {
    code = response.network_code;
    done.arrive();
  });
  std::this_thread::sleep_for(20ms);
  client.cancel(id);
  CAF_REQUIRE(done.wait_for(5s));
  CAF_CHECK_EQUAL(code.load(), 1022);

  // Removing the hook lets requests through untouched.
  client.set_fault_hook({});
  int before = seen.load();
  auto unhooked = fetch(client, post(server->url("/echo?fail")));
  CAF_CHECK_EQUAL(unhooked.network_code, 0);
  CAF_CHECK_EQUAL(seen.load(), before);
}

CAF_TEST(an answer above max_response_bytes is abandoned with 1012) {
  auto server = plain_server();
  http_client_options options;
  options.max_response_bytes = 1024;
  options.accept_compression = false;
  http_client client{options};
  auto small = fetch(client, post(server->url("/echo"), std::string(1000, 'a')));
  CAF_CHECK_EQUAL(small.network_code, 0);
  auto large = fetch(client, post(server->url("/echo"), std::string(4096, 'a')));
  CAF_CHECK_EQUAL(large.network_code, 1012);
  CAF_CHECK(large.body.size() <= 1024u);
  CAF_MESSAGE(large.error_message);
  auto again = fetch(client, post(server->url("/echo"), "ok"));
  CAF_CHECK_EQUAL(again.body, "ok");
}

CAF_TEST(fifty sessions chain requests through one client) {
  // The shape of issue 4: many sessions, each sending its next request from the
  // completion of the previous one, all through one client.
  auto server = plain_server();
  http_client_options options;
  // cpp-httplib listens with a backlog of 5: more simultaneous first connects lose
  // their SYN and wait for the 1 s retransmit, which would only slow the test down.
  options.max_parallel_transfers = 4;
  http_client client{options};
  constexpr int sessions = 50;
  constexpr int steps = 20;
  countdown finished{sessions};
  std::atomic<int> failures{0};
  struct session {
    int number = 0;
    int step = 0;
  };
  std::vector<session> state(sessions);
  std::function<void(int)> send_next = [&](int s) {
    auto body = std::to_string(s) + ":" + std::to_string(state[s].step);
    client.submit(post(server->url("/echo"), body), [&, s, body](http_response response) {
      if (!response.ok() || response.body != body)
        failures.fetch_add(1);
      if (++state[s].step == steps)
        finished.arrive();
      else
        send_next(s);
    });
  };
  for (int s = 0; s < sessions; ++s) {
    state[s].number = s;
    send_next(s);
  }
  CAF_REQUIRE(finished.wait_for(60s));
  CAF_CHECK_EQUAL(failures.load(), 0);
  CAF_CHECK_LESS_OR_EQUAL(server->connections_seen(), 4u);
}

CAF_TEST(sequential requests reuse one connection with low latency) {
  auto server = plain_server();
  http_client client;
  constexpr int total = 200;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < total; ++i) {
    auto response = fetch(client, post(server->url("/echo"), std::to_string(i)));
    CAF_REQUIRE_EQUAL(response.network_code, 0);
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CAF_MESSAGE(total << " sequential requests in " << seconds << " s");
  CAF_CHECK_EQUAL(server->connections_seen(), 1u);
}

CAF_TEST(queued requests wait for a free slot and can time out or be cancelled there) {
  auto server = plain_server();
  http_client_options options;
  options.max_parallel_transfers = 1;
  http_client client{options};
  countdown done{3};
  std::atomic<int> first_code{-1}, timed_out_code{-1}, cancelled_code{-1};
  client.submit(slow(*server, 400), [&](http_response response) {
    first_code = response.network_code;
    done.arrive();
  });
  auto short_lived = post(server->url("/echo"));
  short_lived.timeout = 100ms; // expires while the slot is taken
  std::atomic<long long> timed_out_after_us{0};
  client.submit(short_lived, [&](http_response response) {
    timed_out_code = response.network_code;
    timed_out_after_us = response.elapsed.count();
    done.arrive();
  });
  auto queued = client.submit(post(server->url("/echo")), [&](http_response response) {
    cancelled_code = response.network_code;
    done.arrive();
  });
  std::this_thread::sleep_for(50ms);
  client.cancel(queued);
  CAF_REQUIRE(done.wait_for(10s));
  CAF_CHECK_EQUAL(first_code.load(), 0);
  CAF_CHECK_EQUAL(timed_out_code.load(), 1014);
  // It ends at its own deadline, not when the slot frees at ~400 ms.
  CAF_CHECK_LESS(timed_out_after_us.load(), 300000);
  CAF_CHECK_EQUAL(cancelled_code.load(), 1022);
  CAF_CHECK_EQUAL(server->connections_seen(), 1u);
}

CAF_TEST(libcurl results map to the documented network codes) {
  struct entry {
    CURLcode curl;
    long os_errno;
    int code;
  };
  const entry table[] = {
    {CURLE_OK, 0, 0},
    {CURLE_COULDNT_RESOLVE_HOST, 0, 1015},
    {CURLE_COULDNT_RESOLVE_PROXY, 0, 1015},
    {CURLE_COULDNT_CONNECT, ECONNREFUSED, 1016},
    {CURLE_COULDNT_CONNECT, ENETUNREACH, 1011},
    {CURLE_COULDNT_CONNECT, ENETDOWN, 1011},
    {CURLE_INTERFACE_FAILED, 0, 1011},
    {CURLE_OPERATION_TIMEDOUT, 0, 1014},
    {CURLE_PEER_FAILED_VERIFICATION, 0, 1200},
    {CURLE_SSL_CONNECT_ERROR, 0, 1200},
    {CURLE_SSL_CACERT_BADFILE, 0, 1200},
    {CURLE_GOT_NOTHING, 0, 1012},
    {CURLE_RECV_ERROR, ECONNRESET, 1012},
    {CURLE_SEND_ERROR, EPIPE, 1012},
    {CURLE_PARTIAL_FILE, 0, 1012},
    {CURLE_ABORTED_BY_CALLBACK, 0, 1022},
    {CURLE_UNSUPPORTED_PROTOCOL, 0, 1000},
    {CURLE_URL_MALFORMAT, 0, 1000},
  };
  for (const auto& e : table) {
    CAF_MESSAGE(curl_easy_strerror(e.curl));
    CAF_CHECK_EQUAL(network_code_for_curl_result(e.curl, e.os_errno), e.code);
  }
}
