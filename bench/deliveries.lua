-- wrk script: POST pre-signed webhook deliveries, each once, in file order.
--   [KANTA_BENCH_DELAY_MS=n] wrk -t1 -c8 -d10s -s bench/deliveries.lua http://HOST:PORT -- FILE
-- FILE holds one delivery a line: "<hmac>\t<webhook id>\t<topic>\t<shop>\t<JSON body>".
-- KANTA_BENCH_DELAY_MS paces each connection: after a response wrk waits that long before the
-- next request on it (how bench/webhook_ingest.py measures latency below peak load).
-- KANTA_BENCH_START: the line to begin with (where the previous run of the same server stopped).
deliveries, count, next_index, wrapped = {}, 0, tonumber(os.getenv("KANTA_BENCH_START") or "1"), 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local hmac, id, topic, shop, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    count = count + 1
    deliveries[count] = wrk.format("POST", "/webhooks", {
      ["Content-Type"] = "application/json",
      ["X-Shopify-Topic"] = topic,
      ["X-Shopify-Hmac-Sha256"] = hmac,
      ["X-Shopify-Shop-Domain"] = shop,
      ["X-Shopify-Webhook-Id"] = id,
      ["X-Shopify-API-Version"] = "2026-04",
      ["X-Shopify-Event-Id"] = id,
    }, body)
  end
  if next_index > count then  -- an earlier run used the file up: this one repeats deliveries
    next_index = ((next_index - 1) % count) + 1
    wrapped = wrapped + 1
  end
end

function request()
  local r = deliveries[next_index]
  next_index = next_index + 1
  if next_index > count then
    next_index = 1
    wrapped = wrapped + 1
  end
  return r
end

local pause = tonumber(os.getenv("KANTA_BENCH_DELAY_MS") or "")
if pause and pause > 0 then
  function delay()
    return pause
  end
end

function done(summary, latency, requests)
  -- wrapped > 0 means deliveries were sent twice (cheap duplicates): the driver refuses that.
  for _, thread in ipairs(threads) do
    io.write(string.format("kanta-bench wrapped=%d next=%d\n", thread:get("wrapped"), thread:get("next_index")))
  end
end
