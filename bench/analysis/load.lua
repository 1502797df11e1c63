-- Paced work items: each connection waits DELAY ms between requests (20 connections x 100 ms ~ 200 req/s); counts 5xx.
local delay_ms = tonumber(os.getenv("DELAY_MS") or "100")
local threads = {}
local counter = 0
function setup(thread) table.insert(threads, thread) end
function init(args) failures = 0; total = 0 end
function request()
  counter = counter + 1
  return wrk.format("POST", "/api/items", { ["Content-Type"] = "application/json" },
    '{"id":"bench-' .. counter .. '","kind":"text","payload":{"text":"hello bench"}}')
end
function delay() return delay_ms end
function response(status, headers, body)
  total = total + 1
  if status >= 500 then failures = failures + 1 end
end
function done(summary, latency, requests)
  local f, t = 0, 0
  for _, thread in ipairs(threads) do f = f + thread:get("failures"); t = t + thread:get("total") end
  io.write(string.format("LOAD total=%d failures=%d\n", t, f))
end
