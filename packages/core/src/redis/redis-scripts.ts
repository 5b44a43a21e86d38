/**
 * The Lua script of RedisEngine, run with EVALSHA (ioredis `defineCommand`).
 *
 * Layout: each entry is ONE Redis hash at `<keyPrefix>k:<key>` with field `v`
 * (the value as JSON text) and one field `t:<tag>` per tag. Value and tags share
 * a key, hence a slot, so every per-key step is atomic on standalone Redis and
 * in Cluster alike. A tag's index is a set at `<keyPrefix>t:<tag>` holding key
 * names; it is only an index: readers check each member against the member's
 * own hash (`tagged`) before they trust it.
 *
 * One script runs a batch of per-key ops, because a script call costs far more
 * (client and server) than the Redis calls inside it: 10,000 gets are a few
 * calls, not 10,000.
 *
 * KEYS: the first op's key (it routes the call in a Cluster). ARGV: tagPrefix,
 * dataPrefix, then per op: key, name, argument count, arguments. All keys of one
 * call share a slot: a call holds one op, or every key shares one slot
 * (standalone, or a {hash tag} prefix), as do the tag sets the script touches.
 * Reply: one element per op; an op's error is an error element (the other ops
 * still run).
 *
 * tagPrefix '' ("external" tags): tag sets live in other slots (Cluster), so ops
 * return the tag fields involved and the caller updates the sets with `tagAdd`
 * and `tagStretch` ops on the sets' own slots. Otherwise ("inline" tags:
 * standalone Redis, or a Cluster keyPrefix with a {hash tag}) the ops update the
 * tag sets themselves, atomically with the key: one round trip, and a live key
 * is never missing from its tags' sets.
 *
 * TTLs travel as milliseconds: '0' means no expiry, '' means "leave it".
 */
export const BATCH_SCRIPT = `
local T, D = ARGV[1], ARGV[2]
local call = redis.call

local function tagFields(k)
  if call('HLEN', k) < 2 then return {} end
  local out = {}
  for _, f in ipairs(call('HKEYS', k)) do if f ~= 'v' then out[#out + 1] = f end end
  return out
end
local function setTtl(k, ms)
  if ms == '0' then call('PERSIST', k) elseif ms ~= '' then call('PEXPIRE', k, ms) end
end
local function member(k) return string.sub(k, #D + 1) end
local function tagSet(field) return T .. string.sub(field, 3) end

-- Set t holds m, and lives at least ms ('0': m never expires, nor may t); an abandoned set expires.
local function index(t, m, ms)
  local existed = call('EXISTS', t)
  call('SADD', t, m)
  if ms == '0' then call('PERSIST', t)
  elseif existed == 0 then call('PEXPIRE', t, ms)
  else
    local cur = call('PTTL', t)
    if cur >= 0 and cur < tonumber(ms) then call('PEXPIRE', t, ms) end
  end
end
-- Once a set holds more than 16 members, 3 random ones to check, so a busy tag's set stays
-- near its live size (at most ~2x, or 16); small sets, such as one user's sessions, skip it.
local function sample(t)
  if call('SCARD', t) <= 16 then return {} end
  return call('SRANDMEMBER', t, 3)
end
-- Inline tags: index k under a tag, pruning the sampled members that no longer carry it.
local function addTag(m, field, ms)
  local t = tagSet(field)
  index(t, m, ms)
  for _, s in ipairs(sample(t)) do
    if s ~= m and call('HEXISTS', D .. s, field) == 0 then call('SREM', t, s) end
  end
end
-- Inline tags: k's TTL changed to ms; its tags' sets must live as long.
local function stretchTags(k, ms)
  local m = member(k)
  for _, f in ipairs(tagFields(k)) do index(tagSet(f), m, ms) end
end
local function dropTags(k, fields)
  local m = member(k)
  for _, f in ipairs(fields) do call('SREM', tagSet(f), m) end
end

local ops = {}

-- get(touchMs, withTags) -> false | {value, pttl} ({value, pttl, tagField...} with withTags, or external tags with touch)
function ops.get(k, i)
  local v = call('HGET', k, 'v')
  if not v then return false end
  local touch, withTags = ARGV[i], ARGV[i + 1] == '1'
  if touch ~= '' then setTtl(k, touch) end
  local out = {v, call('PTTL', k)}
  if touch ~= '' and T ~= '' then stretchTags(k, touch) end
  if withTags or (touch ~= '' and T == '') then
    for _, f in ipairs(tagFields(k)) do out[#out + 1] = f end
  end
  return out
end

-- set(value, ttlMs, mode ('' | 'nx' | 'xx'), tagField...) -> false when nx/xx kept it from
-- writing, else (external tags) the earlier tag fields, so the caller can drop k from tags it left.
function ops.set(k, i, n)
  local ttl, mode = ARGV[i + 1], ARGV[i + 2]
  if mode ~= '' then
    local e = call('EXISTS', k)
    if (mode == 'nx' and e == 1) or (mode == 'xx' and e == 0) then return false end
  end
  local old = tagFields(k)
  call('DEL', k)
  local args, new = {'v', ARGV[i]}, {}
  for j = i + 3, i + n - 1 do
    args[#args + 1] = ARGV[j]
    args[#args + 1] = '1'
    new[ARGV[j]] = true
  end
  call('HSET', k, unpack(args))
  setTtl(k, ttl)
  if T == '' then return old end
  local m = member(k)
  for _, f in ipairs(old) do if not new[f] then call('SREM', tagSet(f), m) end end
  for j = i + 3, i + n - 1 do addTag(m, ARGV[j], ttl) end
  return {}
end

-- merge(ttlMs, maxBytes, name1, value1, ...), names and values as JSON text, an empty value
-- removing the field -> 0 when absent, else {1} (external tags with a TTL: {1, tagField...}).
-- Errors: 'not_object', 'value_too_large <bytes>'.
-- Works on the JSON text, member by member at the top level, so nested values are kept byte
-- for byte (cjson would turn [] into {} and round numbers to 14 digits). Stored text is
-- compact JSON (JSON.stringify's output).
local function skipString(s, i)
  local j = i + 1
  while true do
    local q = string.find(s, '["\\\\]', j)
    if string.byte(s, q) == 92 then j = q + 2 else return q + 1 end
  end
end
local function skipValue(s, i)
  local c = string.byte(s, i)
  if c == 34 then return skipString(s, i) end
  if c == 123 or c == 91 then
    local depth, j = 0, i
    while true do
      local q = string.find(s, '["{}%[%]]', j)
      local d = string.byte(s, q)
      if d == 34 then j = skipString(s, q)
      else
        if d == 123 or d == 91 then depth = depth + 1 else depth = depth - 1 end
        j = q + 1
        if depth == 0 then return j end
      end
    end
  end
  return string.find(s, '[,}%]]', i)
end
function ops.merge(k, i, n)
  local v = call('HGET', k, 'v')
  if not v then return 0 end
  if string.byte(v, 1) ~= 123 then return redis.error_reply('not_object') end
  local names, values, position = {}, {}, {}
  local pos = 2
  if string.byte(v, pos) ~= 125 then
    while true do
      local nameEnd = skipString(v, pos)
      local valueEnd = skipValue(v, nameEnd + 1)
      local name = string.sub(v, pos, nameEnd - 1)
      names[#names + 1] = name
      values[#values + 1] = string.sub(v, nameEnd + 1, valueEnd - 1)
      position[name] = #names
      pos = valueEnd + 1
      if string.byte(v, valueEnd) == 125 then break end
    end
  end
  for j = i + 2, i + n - 1, 2 do
    local at = position[ARGV[j]]
    if at then values[at] = ARGV[j + 1]
    else
      names[#names + 1] = ARGV[j]
      values[#values + 1] = ARGV[j + 1]
      position[ARGV[j]] = #names
    end
  end
  local parts = {}
  for j = 1, #names do
    if values[j] ~= '' then parts[#parts + 1] = names[j] .. ':' .. values[j] end
  end
  local merged = '{' .. table.concat(parts, ',') .. '}'
  if #merged > tonumber(ARGV[i + 1]) then return redis.error_reply('value_too_large ' .. #merged) end
  call('HSET', k, 'v', merged)
  local ttl = ARGV[i]
  if ttl == '' then return {1} end
  setTtl(k, ttl)
  if T ~= '' then stretchTags(k, ttl) return {1} end
  local out = {1}
  for _, f in ipairs(tagFields(k)) do out[#out + 1] = f end
  return out
end

-- incr(amount, ttlMs) -> the new value as text (Lua numbers are IEEE doubles like JavaScript's;
-- text keeps Redis from truncating to an integer). Errors: 'non_numeric', 'not_finite'.
function ops.incr(k, i)
  local v = call('HGET', k, 'v')
  local n = 0
  if v then
    n = tonumber(v)
    if not n then return redis.error_reply('non_numeric') end
  end
  n = n + tonumber(ARGV[i])
  if n ~= n or n == math.huge or n == -math.huge then return redis.error_reply('not_finite') end
  local s
  if n == math.floor(n) and math.abs(n) < 1e15 then s = string.format('%d', n)
  else
    for p = 15, 17 do
      s = string.format('%.' .. p .. 'g', n)
      if tonumber(s) == n then break end
    end
  end
  call('HSET', k, 'v', s)
  if not v and ARGV[i + 1] ~= '0' then call('PEXPIRE', k, ARGV[i + 1]) end
  return s
end

-- delete() -> {deleted (0|1)} (external tags: {deleted, tagField...})
function ops.delete(k)
  local fields = tagFields(k)
  local deleted = call('DEL', k)
  if T ~= '' then dropTags(k, fields) return {deleted} end
  local out = {deleted}
  for _, f in ipairs(fields) do out[#out + 1] = f end
  return out
end

function ops.exists(k)
  return call('EXISTS', k)
end

-- expire(ttlMs) -> false when absent, else {} (external tags: the key's tag fields)
function ops.expire(k, i)
  if call('EXISTS', k) == 0 then return false end
  setTtl(k, ARGV[i])
  if T ~= '' then stretchTags(k, ARGV[i]) return {} end
  return tagFields(k)
end

-- tagged(tagField, withValue ('1' | '0')) -> false unless k is live and carries the tag (inline
-- tags: then also drops k from the tag's set); else {pttl} or {pttl, value}.
function ops.tagged(k, i)
  local field = ARGV[i]
  if call('HEXISTS', k, field) == 0 then
    if T ~= '' then call('SREM', tagSet(field), member(k)) end
    return false
  end
  if ARGV[i + 1] == '1' then return {call('PTTL', k), call('HGET', k, 'v')} end
  return {call('PTTL', k)}
end

-- deleteIfTagged(tagField) -> false unless k is live and carries the tag (inline tags: then also
-- drops k from the tag's set); else deletes k and returns {} (external tags: its tag fields).
function ops.deleteIfTagged(k, i)
  local field = ARGV[i]
  if call('HEXISTS', k, field) == 0 then
    if T ~= '' then call('SREM', tagSet(field), member(k)) end
    return false
  end
  local fields = tagFields(k)
  call('DEL', k)
  if T == '' then return fields end
  dropTags(k, fields)
  return {}
end

-- External tags, k being a tag set: tagAdd(member, ttlMs) -> members to check for pruning
-- (see sample); tagStretch(member, ttlMs) -> 1, for a member whose TTL was reset (adding it
-- again repairs a set that was lost meanwhile).
function ops.tagAdd(t, i)
  index(t, ARGV[i], ARGV[i + 1])
  return sample(t)
end
function ops.tagStretch(t, i)
  index(t, ARGV[i], ARGV[i + 1])
  return 1
end

local out, a = {}, 3
while a <= #ARGV do
  local n = tonumber(ARGV[a + 2])
  local ok, reply = pcall(ops[ARGV[a + 1]], ARGV[a], a + 3, n)
  if not ok then reply = {err = type(reply) == 'table' and reply.err or tostring(reply)} end
  out[#out + 1] = reply
  a = a + 3 + n
end
return out
`;

/**
 * BATCH_SCRIPT for a Cluster with external tags: one call runs the ops of every key one
 * master serves (Redis 7+ script flags). A key the master no longer serves (resharding)
 * fails its op with "non local key" before it changes anything; the caller retries that op alone.
 */
export const CROSS_SLOT_BATCH_SCRIPT = `#!lua flags=allow-cross-slot-keys${BATCH_SCRIPT}`;
