import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, type RedisProcess, startRedis, startRedisCluster } from '../../../test/helpers/redis-process';
import { RedisEngine } from '../src/redis-engine';
import { describeEngineConformance } from './engine-conformance';

let standalone: RedisProcess;
let cluster: RedisCluster;

beforeAll(async () => {
  [standalone, cluster] = await Promise.all([startRedis(), startRedisCluster({ masters: 3 })]);
});
afterAll(async () => {
  await Promise.all([standalone?.stop(), cluster?.stop()]);
});

describeEngineConformance('RedisEngine on a standalone redis-server', async () => new RedisEngine({ url: standalone.url }));
describeEngineConformance('RedisEngine on a 3-master Redis Cluster', async () => new RedisEngine({ url: cluster.url }));
