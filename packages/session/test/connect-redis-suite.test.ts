// connect-redis 9's own test suite, run against LixSessionStore.
//
// Vendored from tj/connect-redis, index_test.ts at commit 473bc4abdb5102e89482dc4904e3099009c7be1a
// (v9.0.0): https://github.com/tj/connect-redis/blob/473bc4abdb5102e89482dc4904e3099009c7be1a/index_test.ts
// MIT License, Copyright (c) 2010-2025 TJ Holowaychuk.
//
// What changed, each marked "LIX:" where it is:
// - the store: `new LixSessionStore({cache})` instead of `new RedisStore({client})`: on a real
//   lix-cache-server for "defaults" (setup/teardown start and stop it with
//   test/helpers/server-process, in place of testdata/server.ts's redis-server), and on the
//   in-process memory:// engine for the lifecycle. Its load() gives 1000 sessions one second to
//   live, written one after another, and length() must still count 1000: one HTTP round trip per
//   write cannot promise that on a busy machine (measured here: 0.5 s idle, 5 to 10 s with the
//   CPU busy), so over HTTP that test would be flaky. The store's HTTP path is tested in
//   express-session-store.test.ts and fastify-session-store.test.ts;
// - `client` is the cache the store uses, read by the same calls the suite makes of node-redis
//   (`client.ttl(key)`, `client.destroy()`);
// - where session ids are hashed (the default), keys are `prefix + sha256(sid)` and ids()/all()
//   give `"sha256:" + sha256(sid)` instead of the ids: those expected values are changed there.
//   The lifecycle also runs with `hashIds: false`, where every original expected value holds.
import {createHash} from "node:crypto"
import {Cookie} from "express-session"
import {LixCache} from "lix-cache-sdk"
import {LixSessionStore} from "lix-cache-session/express-session"
import {expect, test} from "vitest"
import {type ServerProcess, startServer} from "../../../test/helpers/server-process"

// LIX: the store under test (connect-redis's RedisStore is this file's subject).
type RedisStore = LixSessionStore

// LIX: a real lix-cache-server in place of testdata/server.ts's redis-server.
let server: ServerProcess

// LIX: what the suite asks of its node-redis client, asked of the Lix cache the store uses:
// client.ttl(key) is the key's remaining seconds (-1: no TTL, -2: no key), as in Redis.
function createClient({url}: {url: string}) {
  let cache = new LixCache({url})
  return {
    cache,
    async connect() {},
    async ttl(key: string) {
      let entry = await cache.getEntry(key)
      return entry ? (entry.ttl ?? -1) : -2
    },
    destroy() {
      void cache.close()
    },
  }
}

// LIX: with hashed ids (the default), the key of session "123" is prefix + sha256("123"), and
// ids()/all() give "sha256:" + sha256("123"): the ids themselves are never stored, so they cannot
// be given back. With hashIds: false, both are the id itself, as in connect-redis.
let sha256 = (text: string) => createHash("sha256").update(text).digest("base64url")
let keyOf = (store: RedisStore, sid: string) => store.prefix + (store.hashIds ? sha256(sid) : sid)
let storedId = (store: RedisStore, sid: string) => (store.hashIds ? "sha256:" + sha256(sid) : sid)

test("setup", async () => {
  server = await startServer() // LIX: was redisSrv.connect()
})

test("defaults", async () => {
  let client = createClient({url: server.url}) // LIX: the Lix server's URL
  await client.connect()

  let store = new LixSessionStore({cache: client.cache}) // LIX: the store

  expect(store.client).toBeDefined()
  expect(store.prefix).toBe("sess:")
  expect(store.ttl).toBe(86400) // defaults to one day
  expect(store.scanCount).toBe(100)
  expect(store.serializer).toBe(JSON)
  expect(store.disableTouch).toBe(false)
  expect(store.disableTTL).toBe(false)
  client.destroy()
})

test("redis", async () => {
  // LIX: on memory:// (see the header: the lifecycle's 1-second sessions); the test keeps its name.
  let client = createClient({url: "memory://connect-redis-suite"})
  await client.connect()
  let store = new LixSessionStore({cache: client.cache}) // LIX: the store
  await lifecycleTest(store, client)
  client.destroy()
})

// LIX: the same lifecycle with raw ids (hashIds: false), where connect-redis's own expected
// ids and keys hold unchanged.
test("redis, hashIds: false", async () => {
  let client = createClient({url: "memory://connect-redis-suite-raw-ids"})
  await client.connect()
  let store = new LixSessionStore({cache: client.cache, hashIds: false})
  await lifecycleTest(store, client)
  client.destroy()
})

test("teardown", async () => {
  await server.stop() // LIX: was redisSrv.disconnect
})

async function lifecycleTest(store: RedisStore, client: any): Promise<void> {
  let res = await store.clear()

  let sess = {foo: "bar", cookie: {originalMaxAge: null}}
  await store.set("123", sess)

  res = await store.get("123")
  expect(res).toEqual(sess)

  let ttl = await client.ttl(keyOf(store, "123")) // LIX: was client.ttl("sess:123"); keys are hashed
  expect(ttl).toBeGreaterThanOrEqual(86399)

  ttl = 60
  let expires = new Date(Date.now() + ttl * 1000)
  await store.set("456", {cookie: {originalMaxAge: null, expires}})
  ttl = await client.ttl(keyOf(store, "456")) // LIX: was client.ttl("sess:456")
  expect(ttl).toBeLessThanOrEqual(60)

  ttl = 90
  let expires2 = new Date(Date.now() + ttl * 1000)
  await store.touch("456", {cookie: {originalMaxAge: null, expires: expires2}})
  ttl = await client.ttl(keyOf(store, "456")) // LIX: was client.ttl("sess:456")
  expect(ttl).toBeGreaterThan(60)

  res = await store.length()
  expect(res).toBe(2) // stored two keys length

  res = await store.ids()
  res.sort()
  // LIX: was ["123", "456"]: with hashed ids, ids() gives the stored ids, not the session ids
  expect(res).toEqual([storedId(store, "123"), storedId(store, "456")].sort())

  res = await store.all()
  res.sort((a: any, b: any) => (a.id > b.id ? 1 : -1))
  // LIX: `id` was "123" / "456": with hashed ids, all() sets it to the stored id (sorted by it)
  expect(res).toEqual(
    [
      {id: storedId(store, "123"), foo: "bar", cookie: {originalMaxAge: null}},
      {id: storedId(store, "456"), cookie: {originalMaxAge: null, expires: expires.toISOString()}},
    ].sort((a, b) => (a.id > b.id ? 1 : -1)),
  )

  await store.destroy("456")
  res = await store.length()
  expect(res).toBe(1) // one key remains

  res = await store.clear()

  res = await store.length()
  expect(res).toBe(0) // no keys remain

  let count = 1000
  await load(store, count)

  res = await store.length()
  expect(res).toBe(count)

  await store.clear()
  res = await store.length()
  expect(res).toBe(0)

  expires = new Date(Date.now() + ttl * 1000) // expires in the future
  res = await store.set("789", {cookie: {originalMaxAge: null, expires}})

  res = await store.length()
  expect(res).toBe(1)

  expires = new Date(Date.now() - ttl * 1000) // expires in the past
  await store.set("789", {cookie: {originalMaxAge: null, expires}})

  res = await store.length()
  expect(res).toBe(0) // no key remains and that includes session 789
}

async function load(store: RedisStore, count: number) {
  let cookie = new Cookie()
  for (let sid = 0; sid < count; sid++) {
    cookie.expires = new Date(Date.now() + 1000)
    await store.set("s" + sid, {cookie})
  }
}
