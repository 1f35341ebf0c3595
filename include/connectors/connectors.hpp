#pragma once

// The umbrella header of the connectors library.

#include <connectors/blocks/multiplexer.hpp>
#include <connectors/blocks/pass_through.hpp>
#include <connectors/blocks/weakref_proxy_generator.hpp>
#include <connectors/connection.hpp>
#include <connectors/errors.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/executor.hpp>
#include <connectors/flags.hpp>
#include <connectors/future.hpp>
#include <connectors/gather.hpp>
#include <connectors/helper.hpp>
#include <connectors/init.hpp>
#include <connectors/input.hpp>
#include <connectors/macro.hpp>
#include <connectors/multi_input.hpp>
#include <connectors/multi_input_data.hpp>
#include <connectors/multi_output.hpp>
#include <connectors/output.hpp>
#include <connectors/picture.hpp>
#include <connectors/process.hpp>
#include <connectors/process_executor.hpp>
#include <connectors/process_traits.hpp>
#include <connectors/progress.hpp>
#include <connectors/state.hpp>
#include <connectors/task.hpp>
#include <connectors/trace.hpp>
#include <connectors/worker_limits.hpp>
