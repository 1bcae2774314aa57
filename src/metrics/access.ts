/**
 * @module access: who may scrape `/metrics`.
 *
 * Metrics carry no nicks, channel names or bodies, but they do show how busy
 * the server is, who is failing to log in, and how its store performs: not
 * for the whole internet by default. Like the inspector, they answer only
 * clients on this machine unless the operator opens them with
 * `--metrics-public` (for a Prometheus on another host, behind a firewall).
 */
import { isLoopback } from '../loopback.js';

export function mayScrape(address: string | undefined, isPublic: boolean): boolean {
  return isPublic || isLoopback(address);
}

export const METRICS_LOOPBACK_ONLY =
  'Metrics answer only clients on this machine (loopback). To let a Prometheus on another host scrape them, start the server with --metrics-public.';
