-- wrk script for the gateway benchmark. Arguments (after --):
--   MODE   user | page | create | mix (90% user, 10% create) | ids (a page
--          of 100 users, id only) | ref (users filtered by a random seeded
--          reference: a list no index-only plan answers, one user found) |
--          idsin (users whose id is one of 3 random ids: valueIn) |
--          cdx (users whose customData plan is one of seed.mjs's 50 plans,
--          at random: a declared customData index, --custom-index
--          plan:string) |
--          body (the same request body every time)
--   IDS    file with one user id per line (user, mix, idsin; ref: its line count
--          is the number of seeded users, seed.mjs's seed-0..seed-N-1), or
--          the file holding the request body (body)
--   TAG    prefix making createUser references and emails unique per run
--   KEY    API key sent as Authorization: Bearer (optional; "" for none)
local mode, tag, fixed_body
local ids = {}
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  mode = args[1] or "user"
  tag = args[3] or "run"
  if mode == "body" then
    local f = assert(io.open(args[2], "rb"))
    fixed_body = f:read("*a")
    f:close()
  elseif args[2] and args[2] ~= "" then
    for line in io.lines(args[2]) do
      ids[#ids + 1] = line
    end
  end
  math.randomseed(os.time() * 1000 + (tid or 0))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[4] and args[4] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[4]
  end
end

local function user_body()
  return '{"query":"query U($id: ID!) { user(id: $id) { id email firstName lastName createdAt active } }","variables":{"id":"'
    .. ids[math.random(#ids)] .. '"}}'
end

local function page_body()
  return '{"query":"query P($o: Int) { users(limit: 20, offset: $o, order: {order: DESC, sort: CREATED_AT}) { totalCount data { id email firstName lastName createdAt active } } }","variables":{"o":'
    .. math.random(0, 1000) .. '}}'
end

local function ref_body()
  return '{"query":"query R($r: String) { users(limit: 20, filter: {reference: {equalTo: $r}}) { totalCount data { id email } } }","variables":{"r":"seed-'
    .. math.random(0, #ids - 1) .. '"}}'
end

local function idsin_body()
  return '{"query":"query I($i: [ID!]) { users(limit: 20, filter: {id: {valueIn: $i}}) { totalCount data { id email } } }","variables":{"i":["'
    .. ids[math.random(#ids)] .. '","' .. ids[math.random(#ids)] .. '","' .. ids[math.random(#ids)] .. '"]}}'
end

local function cdx_body()
  return '{"query":"query P($p: JsonValue) { users(limit: 20, filter: {customData: [{path: \\"plan\\", equalTo: $p}]}) { totalCount data { id email } } }","variables":{"p":"p'
    .. math.random(0, 49) .. '"}}'
end

local function ids_body()
  return '{"query":"{ users(limit: 100) { data { id } } }"}'
end

local function create_body()
  counter = counter + 1
  local k = tag .. "-" .. tid .. "-" .. counter
  return '{"query":"mutation C($u: UserCreateDto!) { createUser(user: $u) { id email createdAt } }","variables":{"u":{"reference":"'
    .. k .. '","email":"' .. k .. '@bench.example","firstName":"Bench","lastName":"User"}}}'
end

function request()
  local b
  if mode == "body" then
    b = fixed_body
  elseif mode == "user" then
    b = user_body()
  elseif mode == "page" then
    b = page_body()
  elseif mode == "create" then
    b = create_body()
  elseif mode == "ids" then
    b = ids_body()
  elseif mode == "ref" then
    b = ref_body()
  elseif mode == "idsin" then
    b = idsin_body()
  elseif mode == "cdx" then
    b = cdx_body()
  elseif math.random(10) == 1 then
    b = create_body()
  else
    b = user_body()
  end
  return wrk.format(nil, nil, nil, b)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"rps":%.1f,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non2xx":%d}\n',
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
