/**
 * Lua scripts of RedisEngine, run with EVALSHA (ioredis `defineCommand`).
 *
 * Layout: each entry is ONE Redis hash at `<keyPrefix>k:<key>` with field `v`
 * (the value as JSON text) and one field `t:<tag>` per tag. Value and tags share
 * a key, hence a slot, so every per-key script is atomic on standalone Redis
 * and in Cluster alike. A tag's index is a set at `<keyPrefix>t:<tag>` holding
 * key names; it lives in another slot, so it is kept up to date by separate
 * commands, and it is only an index: readers check each member against the
 * member's own hash (`tagged`) before they trust it.
 *
 * TTLs travel as milliseconds in ARGV: '0' means no expiry, '' means "leave it".
 */

/** Fields named `t:<tag>` of the hash, when it has any (HLEN > 1: more than `v`). */
const TAG_FIELDS = `
local function tagFields(k)
  if redis.call('HLEN', k) < 2 then return {} end
  local fields, out = redis.call('HKEYS', k), {}
  for _, f in ipairs(fields) do if f ~= 'v' then out[#out + 1] = f end end
  return out
end
local function setTtl(k, ms)
  if ms == '0' then redis.call('PERSIST', k) elseif ms ~= '' then redis.call('PEXPIRE', k, ms) end
end
`;

/**
 * get(K; touchMs) → nil | {value, pttl} | with touch: {value, pttl, tagField...}
 * (the tags, so the caller can stretch their sets' TTLs).
 */
export const GET_SCRIPT = `${TAG_FIELDS}
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return nil end
if ARGV[1] == '' then return {v, redis.call('PTTL', KEYS[1])} end
setTtl(KEYS[1], ARGV[1])
local out = {v, redis.call('PTTL', KEYS[1])}
for _, f in ipairs(tagFields(KEYS[1])) do out[#out + 1] = f end
return out
`;

/**
 * set(K; value, ttlMs, mode ('' | 'nx' | 'xx'), tagField...) → nil when nx/xx
 * kept it from writing, else the key's earlier tag fields (so the caller can
 * drop it from tags it no longer carries).
 */
export const SET_SCRIPT = `${TAG_FIELDS}
local k, mode = KEYS[1], ARGV[3]
if mode ~= '' then
  local e = redis.call('EXISTS', k)
  if (mode == 'nx' and e == 1) or (mode == 'xx' and e == 0) then return nil end
end
local old = tagFields(k)
redis.call('DEL', k)
local args = {'v', ARGV[1]}
for i = 4, #ARGV do args[#args + 1] = ARGV[i]; args[#args + 1] = '1' end
redis.call('HSET', k, unpack(args))
setTtl(k, ARGV[2])
return old
`;

/**
 * merge(K; ttlMs, maxBytes, name1, value1, …) where names and values are JSON
 * text, an empty value removing the field → 0 when absent, else {1, tagField...} (tags only when a TTL was given).
 * Errors: 'not_object', 'value_too_large <bytes>'.
 *
 * The merge works on the JSON text, member by member at the top level, so
 * nested values are kept byte for byte: cjson would turn [] into {} and round
 * numbers to 14 digits. Stored text is compact JSON (JSON.stringify's output).
 */
export const MERGE_SCRIPT = `${TAG_FIELDS}
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return 0 end
if string.byte(v, 1) ~= 123 then return redis.error_reply('not_object') end
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
local names, values, index = {}, {}, {}
local pos = 2
if string.byte(v, pos) ~= 125 then
  while true do
    local nameEnd = skipString(v, pos)
    local valueEnd = skipValue(v, nameEnd + 1)
    local name = string.sub(v, pos, nameEnd - 1)
    names[#names + 1] = name
    values[#values + 1] = string.sub(v, nameEnd + 1, valueEnd - 1)
    index[name] = #names
    pos = valueEnd + 1
    if string.byte(v, valueEnd) == 125 then break end
  end
end
for i = 3, #ARGV, 2 do
  local at = index[ARGV[i]]
  if at then values[at] = ARGV[i + 1]
  else
    names[#names + 1] = ARGV[i]
    values[#values + 1] = ARGV[i + 1]
    index[ARGV[i]] = #names
  end
end
local parts = {}
for i = 1, #names do
  if values[i] ~= '' then parts[#parts + 1] = names[i] .. ':' .. values[i] end
end
local merged = '{' .. table.concat(parts, ',') .. '}'
if #merged > tonumber(ARGV[2]) then return redis.error_reply('value_too_large ' .. #merged) end
redis.call('HSET', KEYS[1], 'v', merged)
if ARGV[1] == '' then return {1} end
setTtl(KEYS[1], ARGV[1])
local out = {1}
for _, f in ipairs(tagFields(KEYS[1])) do out[#out + 1] = f end
return out
`;

/**
 * incr(K; amount, ttlMs) → the new value as text (Lua numbers are IEEE doubles
 * like JavaScript's; returning text keeps Redis from truncating to an integer).
 * Errors: 'non_numeric', 'not_finite'.
 */
export const INCR_SCRIPT = `
local v = redis.call('HGET', KEYS[1], 'v')
local n = 0
if v then
  n = tonumber(v)
  if not n then return redis.error_reply('non_numeric') end
end
n = n + tonumber(ARGV[1])
if n ~= n or n == math.huge or n == -math.huge then return redis.error_reply('not_finite') end
local s
if n == math.floor(n) and math.abs(n) < 1e15 then s = string.format('%d', n)
else
  for p = 15, 17 do
    s = string.format('%.' .. p .. 'g', n)
    if tonumber(s) == n then break end
  end
end
redis.call('HSET', KEYS[1], 'v', s)
if not v and ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return s
`;

/** delete(K) → {deleted (0|1), tagField...}. */
export const DELETE_SCRIPT = `${TAG_FIELDS}
local out = {0}
for _, f in ipairs(tagFields(KEYS[1])) do out[#out + 1] = f end
out[1] = redis.call('DEL', KEYS[1])
return out
`;

/** expire(K; ttlMs) → nil when absent, else the key's tag fields. */
export const EXPIRE_SCRIPT = `${TAG_FIELDS}
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
setTtl(KEYS[1], ARGV[1])
return tagFields(KEYS[1])
`;

/**
 * tagged(K; tagField, withValue ('1' | '0')) → nil unless K is live and carries
 * the tag; else {pttl} or {pttl, value}.
 */
export const TAGGED_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return nil end
if ARGV[2] == '1' then return {redis.call('PTTL', KEYS[1]), redis.call('HGET', KEYS[1], 'v')} end
return {redis.call('PTTL', KEYS[1])}
`;

/**
 * invalidateOne(K; tagField) → nil unless K is live and carries the tag;
 * then deletes it and returns its tag fields.
 */
export const DELETE_IF_TAGGED_SCRIPT = `${TAG_FIELDS}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return nil end
local fields = tagFields(KEYS[1])
redis.call('DEL', KEYS[1])
return fields
`;

/**
 * A tag set's TTL must outlive its members', and an abandoned tag must expire:
 * stretch it to at least ttlMs ('0': the member never expires, nor may the set).
 */
const STRETCH = `
local function stretch(k, ms, existed)
  if ms == '0' then redis.call('PERSIST', k) return end
  if existed == 0 then redis.call('PEXPIRE', k, ms) return end
  local cur = redis.call('PTTL', k)
  if cur >= 0 and cur < tonumber(ms) then redis.call('PEXPIRE', k, ms) end
end
`;

/**
 * tagAdd(T; member, ttlMs) → once the set holds more than 16 members, 3 random
 * members: the caller checks them and prunes dead ones, so a busy tag's set
 * stays near its live size (at most ~2x, or 16); small sets, such as one
 * user's sessions, skip the extra round trips.
 */
export const TAG_ADD_SCRIPT = `${STRETCH}
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
stretch(KEYS[1], ARGV[2], existed)
if redis.call('SCARD', KEYS[1]) <= 16 then return {} end
return redis.call('SRANDMEMBER', KEYS[1], 3)
`;

/** tagStretch(T; ttlMs): as tagAdd's TTL step, for a member whose TTL was reset. */
export const TAG_STRETCH_SCRIPT = `${STRETCH}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
stretch(KEYS[1], ARGV[1], 1)
return 1
`;

/**
 * tagFit(T; ttlMs): after a full pass over a tag's live members, set the set's
 * TTL to exactly the longest member TTL ('0': some member never expires), so a
 * tag that once had a key without TTL can still expire once that key is gone.
 */
export const TAG_FIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '0' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`;
