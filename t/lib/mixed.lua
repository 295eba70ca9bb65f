-- wrk script for t/map_grow.t: half POST /api/posts (each with a body
-- large enough to grow the map quickly), half GET of a post and of a page
-- of the list.  TT_KEY: the API key; TT_ID: a post to read.
local key = os.getenv("TT_KEY")
local id = os.getenv("TT_ID")
local pad = string.rep("x", 2000)
local n = 0

function request()
    n = n + 1
    local h = { ["Authorization"] = "Bearer " .. key,
                ["Content-Type"] = "application/json" }
    if n % 2 == 0 then
        local body = '{"post": {"body": "grow ' .. n .. ' ' .. pad .. '"},'
            .. ' "profiles": ["tiktok"],'
            .. ' "media": ["https://cdn.example/v.mp4"],'
            .. ' "platforms": {"tiktok": {"privacy_status": "SELF_ONLY"}}}'
        return wrk.format("POST", "/api/posts", h, body)
    elseif n % 4 == 1 then
        return wrk.format("GET", "/api/posts/" .. id, h)
    else
        return wrk.format("GET", "/api/posts?per_page=5", h)
    end
end
