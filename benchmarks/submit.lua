-- wrk script for benchmarks/submit.py: POSTs one student's response per request.
--
-- Each request carries a fresh uuid4 client_id and a random answer 1..4 for every item.
-- With probability BENCH_REPEAT a request instead re-sends, byte for byte, a response
-- the server has already acknowledged (a browser retrying): the server must answer
-- 200 {"stored": false} and store nothing.
--
-- Every response is logged as "<status> <client_id> <stored> <new|repeat>" to
-- $BENCH_OUT/thread-<n>.log; done() writes wrk's own figures to $BENCH_OUT/summary.json.
-- submit.py reconciles the logs with the rows in the database.
--
-- Environment: BENCH_OUT (directory), BENCH_ITEMS (comma-separated item keys),
-- BENCH_REPEAT (share of requests that are repeats, 0..1).

local out_dir = os.getenv("BENCH_OUT")
local repeat_share = tonumber(os.getenv("BENCH_REPEAT") or "0")
local item_keys = {}
for key in string.gmatch(os.getenv("BENCH_ITEMS") or "", "[^,]+") do
  item_keys[#item_keys + 1] = key
end

local GENDERS = { "girl", "boy", "another", "prefer_not" }
local HOME_LANGUAGES = { "yes", "no", "prefer_not" }
local RING = 2000 -- acknowledged bodies kept for repeats, per thread

-- main state: number the threads so each logs to its own file
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

-- thread state
local log
local pending = {}      -- client_id -> body, sent and not yet answered
local acked = {}        -- ring of acknowledged bodies
local acked_n = 0
local repeating = {}    -- client_id -> number of repeats sent and not yet answered
repeats_sent = 0        -- global, so done() can read it with thread:get

local urandom

function init(args)
  -- client_ids come from the kernel's generator: runs started within the same second
  -- must never draw the same ids (a seeded math.random would)
  urandom = assert(io.open("/dev/urandom", "rb"))
  local seed = 0
  for byte in urandom:read(6):gmatch(".") do seed = seed * 256 + byte:byte() end
  math.randomseed(seed)
  log = assert(io.open(out_dir .. "/thread-" .. tid .. ".log", "w"))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function uuid4()
  local b = { urandom:read(16):byte(1, 16) }
  b[7] = 0x40 + b[7] % 16  -- version 4
  b[9] = 0x80 + b[9] % 64  -- RFC 4122 variant
  return string.format("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
    unpack(b))
end

local function new_body()
  local cid = uuid4()
  local answers = {}
  for i, key in ipairs(item_keys) do
    answers[i] = string.format('"%s":%d', key, math.random(1, 4))
  end
  local body = string.format(
    '{"client_id":"%s","language":"en","demographics":{"gender":"%s","home_language":"%s"},'
      .. '"answers":{%s}}',
    cid, GENDERS[math.random(#GENDERS)], HOME_LANGUAGES[math.random(#HOME_LANGUAGES)],
    table.concat(answers, ","))
  return cid, body
end

function request()
  local body
  if acked_n > 0 and math.random() < repeat_share then
    local entry = acked[math.random(math.min(acked_n, RING))]
    body = entry.body
    repeating[entry.cid] = (repeating[entry.cid] or 0) + 1
    repeats_sent = repeats_sent + 1
  else
    local cid
    cid, body = new_body()
    pending[cid] = body
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local cid = body and string.match(body, '"client_id"%s*:%s*"([0-9a-f%-]+)"')
  local stored = body and string.match(body, '"stored"%s*:%s*(%a+)')
  local kind = "new"
  if cid and repeating[cid] then
    -- only acknowledged responses are repeated, so this answers a repeat
    kind = "repeat"
    repeating[cid] = repeating[cid] > 1 and repeating[cid] - 1 or nil
  end
  log:write(status, " ", cid or "-", " ", stored or "-", " ", kind, "\n")
  if cid and pending[cid] then
    acked_n = acked_n + 1
    acked[(acked_n - 1) % RING + 1] = { cid = cid, body = pending[cid] }
    pending[cid] = nil
  end
end

function done(summary, latency, requests)
  local repeats = 0
  for _, thread in ipairs(threads) do
    repeats = repeats + (thread:get("repeats_sent") or 0)
  end
  local e = summary.errors
  -- 1,000 quantiles (0.1 % steps), so submit.py can merge the runs of several rounds
  local quantiles = {}
  for i = 1, 1000 do
    quantiles[i] = string.format("%d", latency:percentile(i / 10))
  end
  local f = assert(io.open(out_dir .. "/summary.json", "w"))
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"repeats_sent":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f},'
      .. '"quantiles_us":[%s]}',
    summary.requests, summary.duration, summary.bytes, repeats,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, table.concat(quantiles, ",")))
  f:close()
end
