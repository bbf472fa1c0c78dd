-- wrk script: cycles over pre-built GET requests, one per line of the file named by the
-- environment variable KANTA_WRK_REQUESTS, each "<path>\t<Authorization header value>".
-- Every thread starts at its own offset. done() prints one JSON line the harness parses.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  local file = assert(io.open(os.getenv("KANTA_WRK_REQUESTS"), "r"))
  for line in file:lines() do
    local path, authorization = line:match("^([^\t]+)\t?(.*)$")
    local headers = {}
    if authorization ~= "" then
      headers["Authorization"] = authorization
    end
    table.insert(requests, wrk.format("GET", path, headers))
  end
  file:close()
  position = (id * 7919) % #requests
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'KANTA_WRK {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
