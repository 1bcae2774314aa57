/**
 * @module loopback: whether a peer address is this machine.
 *
 * The inspector shows every session's state, so only clients on loopback
 * may see it. Node reports IPv4 peers of a dual-stack socket as `::ffff:a.b.c.d`.
 */
import { isIPv4 } from 'node:net';

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return isIPv4(v4) && v4.startsWith('127.');
}
