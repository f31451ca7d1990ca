-- wrk script for bench/auth.sh: tools/call "echo" through one MCP session,
-- with an API key when MCP_KEY is set. Counts answers that carry the
-- request's own text; prints one "AUTHBENCH ok=N bad=M" line.
local session = os.getenv("MCP_SESSION") or ""
local key = os.getenv("MCP_KEY") or ""
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- per thread (globals of the thread's own Lua state, read back in done())
function init(args)
   n, ok, bad = 0, 0, 0
end

function request()
   n = n + 1
   local headers = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
      ["Mcp-Session-Id"] = session,
      ["MCP-Protocol-Version"] = "2025-06-18",
   }
   if key ~= "" then headers["Authorization"] = "Bearer " .. key end
   local body = string.format('{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"text":"t-%d"}}}', n, n)
   return wrk.format("POST", "/mcp", headers, body)
end

function response(status, headers, body)
   if status == 200 and body:find('"text":"t%-', 1) then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
   local ok, bad = 0, 0
   for _, t in ipairs(threads) do
      ok = ok + t:get("ok")
      bad = bad + t:get("bad")
   end
   io.write(string.format("AUTHBENCH ok=%d bad=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f\n", ok, bad,
      summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
