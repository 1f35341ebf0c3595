#pragma once

// The check value of a request (issue 11, item 4): a keyed hash of the call
// id and of the part of the request that names code (the invoker and the
// callable). The key is drawn at init() and inherited by the fork server and
// every worker; a request the parent did not make fails the check before the
// worker resolves anything in it. See docs/processes.md.

#include <cstddef>
#include <cstdint>

namespace connectors::detail {

// Draws the key; called once by init() before the fork server is started.
void make_request_key();

std::uint64_t request_check(std::uint64_t call_id, const char* code, std::size_t code_size) noexcept;

}  // namespace connectors::detail
