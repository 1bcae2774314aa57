/**
 * @module passwords.test: the PHC hash format, verification, and the pool that bounds hashing.
 */
import { describe, expect, it } from 'vitest';
import { HashPool, HashQueueFullError, hashPassword, OWASP_SCRYPT, verifyPassword } from '../../src/accounts/passwords.js';
import { CHEAP_SCRYPT } from '../support/accounts.js';

describe('password hashes', () => {
  it('are PHC strings that name scrypt and its parameters, salted afresh each time', async () => {
    const one = await hashPassword('correct horse', CHEAP_SCRYPT);
    const two = await hashPassword('correct horse', CHEAP_SCRYPT);
    expect(one).toMatch(/^\$scrypt\$ln=4,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(one).not.toBe(two);
  });

  it('default to OWASP’s minimum scrypt cost', async () => {
    expect(OWASP_SCRYPT).toEqual({ ln: 15, r: 8, p: 3 });
    expect(await hashPassword('correct horse')).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$/);
  });

  it('verify the right password only, with whatever parameters the hash names', async () => {
    const stored = await hashPassword('correct horse', CHEAP_SCRYPT);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsE', stored)).toBe(false);
    const stronger = await hashPassword('correct horse', { ln: 5, r: 8, p: 2 });
    expect(await verifyPassword('correct horse', stronger)).toBe(true);
  });

  it('never match a stored value they cannot read', async () => {
    expect(await verifyPassword('x', 'plain text')).toBe(false);
    expect(await verifyPassword('x', '$argon2id$v=19$m=1,t=1,p=1$abc$def')).toBe(false);
  });

  it('treat composed and decomposed forms of the same text as one password', async () => {
    const stored = await hashPassword('Zo\u00eb password', CHEAP_SCRYPT);
    expect(await verifyPassword('Zoe\u0308 password', stored)).toBe(true);
  });
});

describe('the hash pool', () => {
  it('runs at most its concurrency at once and the rest in order', async () => {
    const pool = new HashPool(2, 10);
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    const job = (n: number) =>
      pool.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        order.push(n);
      });
    await Promise.all([1, 2, 3, 4, 5].map(job));
    expect(peak).toBe(2);
    expect(pool.peak).toBe(2);
    expect(pool.started).toBe(5);
    expect(order.slice(2)).toEqual([3, 4, 5]);
    expect(pool.inFlight).toBe(0);
  });

  it('refuses work beyond its queue at once instead of piling it up', async () => {
    const pool = new HashPool(1, 1);
    let release!: () => void;
    const blocker = pool.run(() => new Promise<void>((resolve) => (release = resolve)));
    const queued = pool.run(async () => 'queued');
    await expect(pool.run(async () => 'refused')).rejects.toBeInstanceOf(HashQueueFullError);
    release();
    await blocker;
    expect(await queued).toBe('queued');
  });
});
