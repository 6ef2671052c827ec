-- intake.lua: wrk script for bench.intake_http. POSTs one JSON body per request, counts the
-- status codes, keeps what each 2xx answer acknowledged, and writes one JSON summary.
-- Configured by environment variables (set by bench/intake_http.py):
--   BENCH_BODY     the request body; "%N" becomes a number unique to the request, "%P" a
--                  mobile number made from it (so every order has its own caller)
--   BENCH_HEADERS  "Name: value|Name2: value2"
--   BENCH_ACK      Lua pattern with one capture, applied to each 2xx body (the order number
--                  or ticket id); the captures go one per line to BENCH_ACK_OUT
--   BENCH_OUT      where the JSON summary goes
-- wrk runs a closed loop: each connection sends its next request when the answer came back.

local threads = {}
codes = {}   -- globals, read per thread by done() through thread:get
acks = {}
unparsed = 0
local counter = 0
local body, headers, ackpat

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s or "", "([^" .. sep .. "]+)") do out[#out + 1] = part end
  return out
end

function setup(thread)
  thread:set("tid", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  body = os.getenv("BENCH_BODY") or ""
  headers = {}
  for _, h in ipairs(split(os.getenv("BENCH_HEADERS"), "|")) do
    local k, v = string.match(h, "^%s*([^:]+):%s*(.*)$")
    if k then headers[k] = v end
  end
  ackpat = os.getenv("BENCH_ACK")
  if ackpat == "" then ackpat = nil end
end

function request()
  counter = counter + 1
  local n = tid * 100000000 + counter
  local b = string.gsub(body, "%%N", tostring(n))
  b = string.gsub(b, "%%P", string.format("139%08d", n % 100000000))
  return wrk.format("POST", nil, headers, b)
end

function response(status, hdrs, resp)
  local k = tostring(status)
  codes[k] = (codes[k] or 0) + 1
  if ackpat and status >= 200 and status < 300 then
    local v = resp and string.match(resp, ackpat)
    if v then acks[#acks + 1] = v else unparsed = unparsed + 1 end
  end
end

function done(summary, latency, requests)
  local all, allacks, nunparsed = {}, {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes") or {}) do all[k] = (all[k] or 0) + v end
    for _, v in ipairs(t:get("acks") or {}) do allacks[#allacks + 1] = v end
    nunparsed = nunparsed + (t:get("unparsed") or 0)
  end
  local ackout = os.getenv("BENCH_ACK_OUT")
  if ackout and ackout ~= "" then
    local f = io.open(ackout, "w")
    for _, v in ipairs(allacks) do f:write(v .. "\n") end
    f:close()
  end
  local n2xx, nother, parts = 0, 0, {}
  for k, v in pairs(all) do
    if tonumber(k) >= 200 and tonumber(k) < 300 then n2xx = n2xx + v else nother = nother + v end
    parts[#parts + 1] = string.format('"%s": %d', k, v)
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  local json = string.format(
    '{"duration_s": %.3f, "requests": %d, "n_2xx": %d, "n_non2xx": %d, "status": {%s}, ' ..
    '"acks": %d, "ack_unparsed": %d, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_ms": {"mean": %.2f, "p50": %.2f, "p90": %.2f, "p99": %.2f, "max": %.2f}}',
    secs, summary.requests, n2xx, nother, table.concat(parts, ", "), #allacks, nunparsed,
    e.connect, e.read, e.write, e.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000)
  local f = io.open(os.getenv("BENCH_OUT"), "w")
  f:write(json .. "\n")
  f:close()
end
