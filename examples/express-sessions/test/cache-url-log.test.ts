import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../test/helpers/redis-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { startExample, type ExampleProcess } from './example-process';

describe('the example prints its cache URL without the password', () => {
  let redis: RedisProcess;
  let app: ExampleProcess;

  beforeAll(async () => {
    redis = await startRedis();
    // Redis's default user has nopass, so the password is accepted.
    app = await startExample(`redis://default:s3cret-pw-9c2e@127.0.0.1:${redis.port}`);
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('logs redis://***@host:port', async () => {
    await waitFor(() => app.logs().includes('listening on'), { what: 'the start-up line' });
    expect(app.logs()).toContain(`(cache redis://***@127.0.0.1:${redis.port},`);
    expect(app.logs()).not.toContain('s3cret-pw-9c2e');
  });
});
