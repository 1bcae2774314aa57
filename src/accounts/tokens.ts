/**
 * @module tokens: resume tokens: 256 random bits for the client, a SHA-256
 * of them for the store, so a leaked database holds nothing to sign in with.
 */
import { createHash, randomBytes } from 'node:crypto';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
