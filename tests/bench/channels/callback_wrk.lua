-- wrk script for the WeCom callback benchmark (run_callback_bench.sh drives it).
--
-- Environment:
--   KEFU_CALLBACK_REQUESTS  file written by `kefu_channels_callback_load --write-requests`
--                           ("<target>\t<body>" per line). Unset: plain GET of the URL (no-op).
--   KEFU_WRK_THREADS        wrk's -t value; thread i sends lines i, i+T, i+2T, ... so every
--                           MsgId is posted exactly once.
--   KEFU_DAEMON_PID         the daemon's pid: done() prints its CPU time per request.
--   KEFU_LABEL              label of the result line.
--
-- A thread that has sent all its lines sends a request without signature (the daemon answers
-- 403), so running out shows up as non-2xx responses instead of as duplicate MsgIds.

local function daemon_cpu_seconds()
  local pid = os.getenv("KEFU_DAEMON_PID")
  if not pid then return nil end
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local line = f:read("*l")
  f:close()
  -- Fields after "(comm) ": state is field 3; utime and stime are fields 14 and 15 (clock ticks).
  local rest = line:match("%) (.*)$")
  local fields = {}
  for v in rest:gmatch("%S+") do fields[#fields + 1] = v end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

local file = os.getenv("KEFU_CALLBACK_REQUESTS")
local next_index = 0
local cpu_start = nil

function setup(thread)
  thread:set("thread_index", next_index)
  next_index = next_index + 1
  cpu_start = daemon_cpu_seconds()
end

if file then
  local requests = {}
  local position = 0
  local exhausted = nil

  function init(args)
    local threads = tonumber(os.getenv("KEFU_WRK_THREADS") or "1")
    local headers = { ["Content-Type"] = "text/xml" }
    local line_no = 0
    for line in io.lines(file) do
      if line_no % threads == thread_index then
        local tab = line:find("\t", 1, true)
        requests[#requests + 1] =
          wrk.format("POST", line:sub(1, tab - 1), headers, line:sub(tab + 1))
      end
      line_no = line_no + 1
    end
    exhausted = wrk.format("POST", "/callback/wecom/main", headers, "")
  end

  function request()
    position = position + 1
    return requests[position] or exhausted
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local ok = summary.requests - summary.errors.status
  local line = string.format(
    "%-22s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  ok %d  non-2xx %d  socket errors %d",
    os.getenv("KEFU_LABEL") or "wrk", summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, ok, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout)
  local cpu_end = daemon_cpu_seconds()
  if cpu_start and cpu_end and summary.requests > 0 then
    local cpu = cpu_end - cpu_start
    line = line .. string.format("  daemon cpu %.1f us/req (%.2f cores)",
      cpu * 1e6 / summary.requests, cpu / seconds)
  end
  io.write(line .. "\n")
end
