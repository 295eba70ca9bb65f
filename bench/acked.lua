-- wrk script for bench/nginx_restart.pl: POST /api/posts only, every
-- id answered 201 appended to TT_ACKED.<thread> (one line each: the
-- client's log of acknowledged ids).  TT_KEY: the API key; TT_PROFILE:
-- the profile.
local key = os.getenv("TT_KEY")
local prof = os.getenv("TT_PROFILE")
local path = os.getenv("TT_ACKED")
local threads = 0
local n = 0
local log

function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

function init(args)
    log = io.open(path .. "." .. tid, "a")
    log:setvbuf("line")
end

function request()
    n = n + 1
    local h = { ["Authorization"] = "Bearer " .. key,
                ["Content-Type"] = "application/json" }
    local body = '{"post": {"body": "load ' .. tid .. '-' .. n .. '",'
        .. ' "draft": true}, "profiles": ["' .. prof .. '"],'
        .. ' "media": ["https://cdn.example/v.mp4"],'
        .. ' "platforms": {"tiktok": {"privacy_status": "SELF_ONLY"}}}'
    return wrk.format("POST", "/api/posts", h, body)
end

function response(status, headers, body)
    if status == 201 then
        local id = string.match(body, '"id":"(p_[%w]+)"')
        if id then
            log:write(id .. "\n")
        else
            log:write("noid\n")
        end
    end
end
