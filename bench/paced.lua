-- wrk script for bench/store_bench.sh's LIST_PACE_MS: each connection
-- waits TT_PACE_MS milliseconds after an answer before its next request,
-- so that a p99 is a request's own time rather than its wait behind the
-- others for one of the cores (wrk and nginx share them).
local pace = tonumber(os.getenv("TT_PACE_MS") or "1")

function delay()
    return pace
end
