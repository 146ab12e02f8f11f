-- Cycles through "path<TAB>token" lines (one file per endpoint), one bearer token per user,
-- and counts every answer that is not a 200.
local threads = {}
local requests = {}
local counter = 0
non200 = 0

setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

init = function(args)
  for line in io.lines(args[1]) do
    local path, token = line:match("([^\t]+)\t(.*)")
    requests[#requests + 1] = wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
  end
  counter = (id * 7919) % #requests
end

request = function()
  counter = counter % #requests + 1
  return requests[counter]
end

response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  local total_non200 = 0
  for _, thread in ipairs(threads) do total_non200 = total_non200 + thread:get("non200") end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, total_non200,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
