-- wrk script: cycle through pre-signed deliveries read from a pool file.
-- Usage: wrk ... -s bench/signed_requests.lua URL -- POOL_FILE THREADS
-- Pool line: webhook-id TAB timestamp TAB signature TAB path TAB body
-- Thread k takes lines k, k+T, k+2T, ... so no two threads send the same webhook-id.

local next_thread = 0
local requests = {}
local count = 0
local cursor = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local pool, threads = args[1], tonumber(args[2])
  local line_number = 0
  for line in io.lines(pool) do
    if line_number % threads == thread_index then
      local id, ts, sig, path, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      count = count + 1
      requests[count] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["webhook-id"] = id,
        ["webhook-timestamp"] = ts,
        ["webhook-signature"] = sig,
      }, body)
    end
    line_number = line_number + 1
  end
  if count == 0 then
    error("empty request pool for thread " .. thread_index)
  end
end

function request()
  cursor = cursor % count + 1
  return requests[cursor]
end

-- One JSON line on stdout for bench/load.py; latencies are in microseconds.
function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
