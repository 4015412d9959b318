-- wrk script for bench/loadgen.py: repeat one request and check every response.
--
--   wrk -t1 ... -s bench/wrk/check.lua URL -- METHOD EXPECTED_BODY_FILE [REQUEST_BODY_FILE]
--
-- A response counts as wrong when its status is not 2xx or its body is not byte for byte the
-- expected file. done() prints one "BENCH key=value ..." line with the counts and latency
-- percentiles (µs) and, when something was wrong, a "BENCH-WRONG" line with the first one.

local threads = {}

function setup(thread)
   -- Kept so done(), which runs in another Lua state, can read each thread's counters.
   table.insert(threads, thread)
end

local function slurp(path)
   local file = assert(io.open(path, "rb"))
   local data = file:read("*a")
   file:close()
   return data
end

function init(args)
   -- wrk formats the request once after init(), so method and body set here are what it sends.
   wrk.method = args[1]
   expected = slurp(args[2])
   if args[3] then
      wrk.body = slurp(args[3])
      wrk.headers["Content-Type"] = "application/octet-stream"
   end
   checked, wrong_status, wrong_body, first_wrong = 0, 0, 0, nil
end

local function remember(status, body)
   if first_wrong == nil then
      local shown = body:sub(1, 120):gsub("%c", ".")
      first_wrong = string.format("status %d, %d bytes: %s", status, #body, shown)
   end
end

function response(status, headers, body)
   checked = checked + 1
   if status < 200 or status > 299 then
      wrong_status = wrong_status + 1
      remember(status, body)
   elseif body ~= expected then
      -- Lua strings are compared by content: the whole body, not a sample of it.
      wrong_body = wrong_body + 1
      remember(status, body)
   end
end

function done(summary, latency, requests)
   local totals = { checked = 0, wrong_status = 0, wrong_body = 0 }
   local first = nil
   for _, thread in ipairs(threads) do
      for key, value in pairs(totals) do
         totals[key] = value + thread:get(key)
      end
      first = first or thread:get("first_wrong")
   end
   local errors = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d checked=%d wrong_status=%d "
         .. "wrong_body=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      totals.checked, totals.wrong_status, totals.wrong_body,
      errors.connect, errors.read, errors.write, errors.timeout
   ))
   if first then
      io.write("BENCH-WRONG " .. first .. "\n")
   end
end
