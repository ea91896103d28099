# Shared by the bench scripts (sourced, not run).

# write_lead_lua PORT KEY FILE: a wrk script posting the ~1 KB Contact Form 7 body of a real
# home-care enquiry to /api/v1/leads with KEY. Each body is different (name, e-mail, phone,
# gclid), so every request is a real insert of a new lead: not a double submit, and not a
# duplicate (same e-mail or phone) of an earlier one. The request is built in one
# concatenation, not by wrk.format: the load tool shares the cores with the daemon, and its
# per-request cost should be close to that of the healthz run.
write_lead_lua() {
cat >"$3" <<LUA
local n = 0
local seed = tostring(os.time()) .. tostring(math.random(1000000))
local area = tostring(200 + os.time() % 800)
local msg = "My mother is 84 and needs help with bathing, meals and medication reminders a few days a week. " ..
  "She lives alone in Springfield and we worry about falls. Do you have caregivers available on weekday mornings? " ..
  "We would also like to know about your rates, whether you accept long-term care insurance, and how soon someone " ..
  "could visit for an assessment. Please call me after 5pm or reply by e-mail. Thank you so much for your help."
local head = "POST /api/v1/leads HTTP/1.1\\r\\nHost: 127.0.0.1:$1\\r\\nX-API-Key: $2\\r\\n" ..
  "Content-Type: application/json\\r\\nContent-Length: "
local tail = '","your-message":"' .. msg .. '","page_url":"https://www.openarms.example/contact/",' ..
  '"utm_source":"google","utm_medium":"cpc","utm_campaign":"home-care-search","gclid":"Cj0KCQjw'
request = function()
  n = n + 1
  local body = '{"your-name":"Jane Doe ' .. n .. '","your-email":"jane.' .. seed .. '.' .. n .. '@example.com",' ..
    '"your-tel":"(' .. area .. ') ' .. string.format("%03d-%04d", math.floor(n / 10000) % 1000, n % 10000) ..
    tail .. n .. '","checkbox-1":["Bathing","Meals"]}'
  return head .. #body .. "\\r\\n\\r\\n" .. body
end
LUA
}
