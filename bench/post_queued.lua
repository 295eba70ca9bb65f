-- wrk script: durable POST /api/posts into a queue (TT_QUEUE), no time:
-- each takes its slot in the transaction that stores it
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TT_KEY")
wrk.body = [[{"post": {"body": "New product drop. Link in bio."},
  "queue_id": "]] .. os.getenv("TT_QUEUE") .. [[",
  "profiles": ["tiktok"],
  "media": ["https://yourcdn.com/launch-9x16.mp4"],
  "platforms": {"tiktok": {"privacy_status": "PUBLIC_TO_EVERYONE"}}}]]
