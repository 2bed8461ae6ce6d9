import { createHash } from 'node:crypto';

/**
 * The Lua scripts. Each runs atomically in Redis, which is what makes the generation check and the write of `set`
 * one step: no invalidation can slip between them, whichever process or machine sends it.
 *
 * Layout under the prefix P: `P e:<key>` an entry (a string: JSON header with its tags and their
 * recorded generations, a newline, the value bytes; see entry.ts), `P g:<tag>` a tag's generation, `P clock` the one counter every generation is
 * drawn from (INCRBY, so generations never repeat), `P floor` the generation of every tag without a key (and of
 * every tag whose key holds less: that is how clear() invalidates everything in O(1)), `P s:<session>` the keys
 * of a session, `P inv` the pub/sub channel that keeps L1 caches coherent.
 *
 * Numbers are formatted with %.0f before they are written: generations start at the server's time in µs (so a
 * Redis that lost its data does not hand out generations that an old snapshot could match), which Lua's default
 * number formatting would round.
 */
const FLOOR = `
local function current_floor(P)
  local f = redis.call('GET', P .. 'floor')
  if f then return tonumber(f) end
  local t = redis.call('TIME')
  local start = t[1] .. string.format('%06d', tonumber(t[2]))
  local clock = redis.call('GET', P .. 'clock')
  if clock and tonumber(clock) > tonumber(start) then start = clock end
  redis.call('SET', P .. 'clock', start)
  redis.call('SET', P .. 'floor', start)
  return tonumber(start)
end
local function gen_of(P, floor, tag)
  local g = tonumber(redis.call('GET', P .. 'g:' .. tag) or -1)
  if g < floor then return floor end
  return g
end
`;

/**
 * KEYS[1] entry. ARGV: P. → the entry if its generations are current, else nil. Used for a key whose tags this
 * process does not know yet; afterwards a hit is one MGET of the entry and its tags' generations (see backend.ts).
 */
const GET = `
local P = ARGV[1]
local blob = redis.call('GET', KEYS[1])
if not blob then return false end
local nl = string.find(blob, '\\n', 1, true)
local ok, header = pcall(cjson.decode, string.sub(blob, 1, (nl or 1) - 1))
-- Not an entry of ours: hand it back, the caller treats it as damaged (a miss) and drops it.
if not nl or not ok or type(header) ~= 'table' or type(header[2]) ~= 'table' then return blob end
local tags, gens = header[2], header[3]
local floor = tonumber(redis.call('GET', P .. 'floor') or -1)
for i = 1, #tags do
  local g = tonumber(redis.call('GET', P .. 'g:' .. tags[i]) or -1)
  if g < floor then g = floor end
  if g ~= gens[i] then return false end
end
return blob
`;

/** ARGV: P, tags... → their generations. */
const GENERATIONS = `${FLOOR}
local P = ARGV[1]
local floor = current_floor(P)
local out = {}
for i = 2, #ARGV do out[#out + 1] = gen_of(P, floor, ARGV[i]) end
return out
`;

/** KEYS[1] entry. ARGV: P, pxat ('0' = none), session ('' or '=' .. id), blob, tag1, gen1, ... → 1 stored / 0. */
const SET = `${FLOOR}
local P = ARGV[1]
-- A Redis that lost its data starts a new floor above every old generation, so an old snapshot cannot match.
local floor = current_floor(P)
for i = 5, #ARGV, 2 do
  if gen_of(P, floor, ARGV[i]) ~= tonumber(ARGV[i + 1]) then return 0 end
end
if ARGV[2] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[4], 'PXAT', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[4])
end
if ARGV[3] ~= '' then redis.call('SADD', P .. 's:' .. string.sub(ARGV[3], 2), KEYS[1]) end
return 1
`;

/** ARGV: P, session ('' or '=' .. id), tags as JSON (for subscribers), tags... → the last generation handed out. */
const BUMP = `${FLOOR}
local P = ARGV[1]
current_floor(P)
local n = #ARGV - 3
if n <= 0 then return 0 end
local last = redis.call('INCRBY', P .. 'clock', n)
local sid = ARGV[2]
for i = 4, #ARGV do
  local key = P .. 'g:' .. ARGV[i]
  redis.call('SET', key, string.format('%.0f', last - n + i - 3))
  if sid ~= '' then redis.call('SADD', P .. 's:' .. string.sub(sid, 2), key) end
end
redis.call('PUBLISH', P .. 'inv', 'b' .. string.format('%.0f', last) .. ':' .. ARGV[3])
return last
`;

/** KEYS[1] entry. ARGV: P, key (for subscribers). */
const DELETE = `
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1] .. 'inv', 'd' .. ARGV[2])
return 1
`;

/** ARGV: P, session id. Drops the session's entries and tag generations. */
const CLEAR_SESSION = `
local P = ARGV[1]
local set = P .. 's:' .. ARGV[2]
local members = redis.call('SMEMBERS', set)
for i = 1, #members, 1000 do redis.call('DEL', unpack(members, i, math.min(i + 999, #members))) end
redis.call('DEL', set)
redis.call('PUBLISH', P .. 'inv', 's' .. ARGV[2])
return #members
`;

/** ARGV: P. Raises the floor above every generation handed out: from now on nothing recorded earlier matches. */
const CLEAR = `${FLOOR}
local P = ARGV[1]
current_floor(P)
local c = redis.call('INCR', P .. 'clock')
redis.call('SET', P .. 'floor', string.format('%.0f', c))
redis.call('PUBLISH', P .. 'inv', 'c')
return c
`;

/**
 * ARGV: P, keys... (a SCAN batch after clear()). Deletes entries and session sets; deletes a tag generation only
 * when it is below the floor (it reads as the floor anyway), so a tag bumped after the clear keeps its generation.
 */
const PURGE = `
local P = ARGV[1]
local floor = tonumber(redis.call('GET', P .. 'floor') or -1)
local gp = P .. 'g:'
local n = 0
for i = 2, #ARGV do
  local k = ARGV[i]
  if k ~= P .. 'clock' and k ~= P .. 'floor' then
    if string.sub(k, 1, #gp) == gp then
      if tonumber(redis.call('GET', k) or -1) < floor then redis.call('DEL', k); n = n + 1 end
    else
      redis.call('DEL', k); n = n + 1
    end
  end
end
return n
`;

/**
 * ARGV: P, entry keys... (a SCAN batch). → per key three values: the JSON header (false when the key is gone or is
 * not an entry), the size of the value in bytes, 1 when the entry is stale (a tag moved past its generation) else
 * 0. Values stay in Redis: only their size travels.
 */
const INSPECT = `
local P = ARGV[1]
local floor = tonumber(redis.call('GET', P .. 'floor') or -1)
local out = {}
for i = 2, #ARGV do
  local blob = redis.pcall('GET', ARGV[i])
  local header, size, stale = false, 0, 0
  if type(blob) == 'string' then
    local nl = string.find(blob, '\\n', 1, true)
    if nl then
      local text = string.sub(blob, 1, nl - 1)
      local ok, h = pcall(cjson.decode, text)
      if ok and type(h) == 'table' and type(h[2]) == 'table' and type(h[3]) == 'table' then
        header, size = text, #blob - nl
        for j = 1, #h[2] do
          local g = tonumber(redis.call('GET', P .. 'g:' .. h[2][j]) or -1)
          if g < floor then g = floor end
          if g ~= h[3][j] then stale = 1; break end
        end
      end
    end
  end
  out[#out + 1] = header
  out[#out + 1] = size
  out[#out + 1] = stale
end
return out
`;

export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export const scripts = {
  get: script(GET),
  generations: script(GENERATIONS),
  set: script(SET),
  bump: script(BUMP),
  delete: script(DELETE),
  clearSession: script(CLEAR_SESSION),
  clear: script(CLEAR),
  purge: script(PURGE),
  inspect: script(INSPECT),
} as const;
