-- wrk script for the load test: sync and async HTTP functions, alternately.
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("GET", "/api/ping")
  end
  return wrk.format("GET", "/api/aping")
end
