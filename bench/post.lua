-- wrk script: durable POST /api/posts with the seed's first example
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TT_KEY")
wrk.body = [[{"post": {"body": "New product drop. Link in bio.",
  "scheduled_at": "2030-05-12T09:00:00Z"},
  "profiles": ["tiktok"],
  "media": ["https://yourcdn.com/launch-9x16.mp4"],
  "platforms": {"tiktok": {"privacy_status": "PUBLIC_TO_EVERYONE"}}}]]
