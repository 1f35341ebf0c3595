#pragma once

// The serving side of the request and reply format (process_call.hpp): how a
// process that received a request runs it. Transport-neutral: the request is
// bytes, the reply goes into a ReplySink, whoever carries them.

#include "reply_sink.hpp"

#include <connectors/detail/process_call.hpp>

#include <string>

namespace connectors::detail {

// Runs `request` (checked already) and leaves its reply in `reply`: the
// result, the method's exception (ReplyStatus::exception) or why it could not
// run (ReplyStatus::failure). Never throws.
void run_request(const std::string& request, ReplySink& reply);

// Replaces what `reply` holds by an error reply of `status` with `first` (and
// `second`, unless null) as its strings.
void write_error(ReplySink& reply, ReplyStatus status, const std::string& first, const std::string* second);

}  // namespace connectors::detail
