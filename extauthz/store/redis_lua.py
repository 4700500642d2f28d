"""Lua scripts of the Redis state store: one script per operation, one round trip each.

Keys of one actor share the hash tag {actor-id}, so every script touches one
cluster slot. Numbers go back as strings (Redis truncates Lua numbers to
integers). The arithmetic mirrors extauthz/store/memory.py; the contract tests
run the same cases against both.

Actor hash fields: r/rt risk and its time, q/qt decaying request count and its
time, lt last request, im/id interval mean and mean deviation, n intervals,
bu blocked until, bc cause, off offences, ot when the last offence's block
ends, ip/pr/ua/cr the label.
"""



def _write_fields(first_label_arg: int) -> str:
    """Lua: add the non-empty label fields (4 ARGVs from `first_label_arg`) to `f`, then HSET it."""
    return f"""local names = {{'ip', 'pr', 'ua', 'cr'}}
for i = 1, 4 do
  local x = ARGV[{first_label_arg - 1} + i]
  if x ~= '' then table.insert(f, names[i]); table.insert(f, x) end
end
redis.call('HSET', KEYS[1], unpack(f))
"""


# KEYS: actor hash, path HLL of the current window
# ARGV: now, risk half-life, rate half-life, path digest, path TTL, idle TTL, interval alpha
TOUCH = """
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'r', 'rt', 'q', 'qt', 'lt', 'im', 'id', 'n', 'bu', 'bc', 'off')
local r = tonumber(v[1]) or 0
local rt = tonumber(v[2]) or now
if now > rt then r = r * math.pow(2, -(now - rt) / tonumber(ARGV[2])) end
local q = tonumber(v[3]) or 0
local qt = tonumber(v[4]) or now
if now > qt then q = q * math.pow(2, -(now - qt) / tonumber(ARGV[3])); qt = now end
q = q + 1
local lt = tonumber(v[5]) or 0
local im = tonumber(v[6]) or 0
local idv = tonumber(v[7]) or 0
local n = tonumber(v[8]) or 0
local alpha = tonumber(ARGV[7])
if lt > 0 and now >= lt then
  local dt = now - lt
  if n > 0 then
    idv = idv + alpha * (math.abs(dt - im) - idv)
    im = im + alpha * (dt - im)
  else
    im = dt
  end
  n = n + 1
end
if now > lt then lt = now end
redis.call('HSET', KEYS[1], 'q', tostring(q), 'qt', tostring(qt), 'lt', tostring(lt),
           'im', tostring(im), 'id', tostring(idv), 'n', n)
local bu = tonumber(v[9]) or 0
local ttl = tonumber(ARGV[6])
if bu - now > ttl then ttl = bu - now end
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], math.ceil(ttl)) end
local d = 0
if ARGV[4] ~= '' then
  redis.call('PFADD', KEYS[2], ARGV[4])
  d = redis.call('PFCOUNT', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return {tostring(r), tostring(bu), v[10] or '', tonumber(v[11]) or 0, tostring(q), n, tostring(im), tostring(idv), d}
"""

# KEYS: actor hash
# ARGV: now, risk half-life, points, cause, threshold, block seconds, repeat factor, max block seconds,
#       offence memory, idle TTL, ip, principal, user agent, credential
ADD_RISK = """
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'r', 'rt', 'bu', 'off', 'ot')
local r = tonumber(v[1]) or 0
local rt = tonumber(v[2]) or now
if now > rt then r = r * math.pow(2, -(now - rt) / tonumber(ARGV[2])); rt = now end
r = r + tonumber(ARGV[3])
local bu = tonumber(v[3]) or 0
local off = tonumber(v[4]) or 0
local ot = tonumber(v[5]) or 0
local mem = tonumber(ARGV[9])
local f = {'r', tostring(r), 'rt', tostring(rt)}
local newly = 0
if bu <= now then
  if ARGV[4] ~= '' then table.insert(f, 'bc'); table.insert(f, ARGV[4]) end
  if r >= tonumber(ARGV[5]) then
    if off > 0 and ot > 0 and now - ot > mem then off = 0 end
    off = off + 1
    local dur = tonumber(ARGV[6]) * math.pow(tonumber(ARGV[7]), math.min(off - 1, 64))
    if dur > tonumber(ARGV[8]) then dur = tonumber(ARGV[8]) end
    bu = now + dur
    ot = bu
    newly = 1
    for _, x in ipairs({'bu', tostring(bu), 'off', off, 'ot', tostring(ot)}) do table.insert(f, x) end
  end
end
""" + _write_fields(11) + """local ttl = tonumber(ARGV[10])
if bu - now > ttl then ttl = bu - now end
if off > 0 and ot - now + mem > ttl then ttl = ot - now + mem end
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], math.ceil(ttl)) end
if bu <= now then bu = 0 end
return {tostring(r), tostring(bu), off, newly}
"""

# Block by hand, or re-assert a block decided while Redis was away.
# KEYS: actor hash
# ARGV: now, until, cause, idle TTL, offence memory, count a new offence (1/0), offences seen locally,
#       ip, principal, user agent, credential
SET_BLOCK = """
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'bu', 'off')
local bu = tonumber(v[1]) or 0
local off = tonumber(v[2]) or 0
local untl = tonumber(ARGV[2])
if ARGV[6] == '1' then off = off + 1 elseif tonumber(ARGV[7]) > off then off = tonumber(ARGV[7]) end
local f = {'off', off}
if untl > bu or ARGV[6] == '1' then
  for _, x in ipairs({'bu', tostring(untl), 'ot', tostring(untl), 'bc', ARGV[3]}) do table.insert(f, x) end
  bu = untl
end
""" + _write_fields(8) + """if redis.call('HEXISTS', KEYS[1], 'lt') == 0 then redis.call('HSET', KEYS[1], 'lt', tostring(now)) end
local ttl = tonumber(ARGV[4])
if bu - now + tonumber(ARGV[5]) > ttl then ttl = bu - now + tonumber(ARGV[5]) end
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], math.ceil(ttl)) end
return off
"""

# KEYS: actor hash; ARGV: now
CLEAR = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'bu', '0', 'r', '0', 'rt', ARGV[1])
return 1
"""

SCRIPTS = {"touch": TOUCH, "add_risk": ADD_RISK, "set_block": SET_BLOCK, "clear": CLEAR}
