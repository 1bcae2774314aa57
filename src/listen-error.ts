/**
 * @module listen-error: why the server could not listen, in one line that
 * says what to change, for the errors a person can cause with `--host` and
 * `--port`. Anything else is a bug, and keeps its stack trace.
 */

const ADDRESS_HINT = 'Pass --host with an address of this machine: 127.0.0.1 for this machine only, 0.0.0.0 for every interface.';

export function explainListenError(error: unknown, host: string, port: number): string | undefined {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return `Port ${port} on ${host} is already in use. Stop the other server or pass --port.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `Cannot listen on "${host}": no such host name. ${ADDRESS_HINT}`;
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${host}: it is not an address of this machine. ${ADDRESS_HINT}`;
    case 'EAFNOSUPPORT':
      return `Cannot listen on ${host}: this machine has no network of that address family (IPv6?). ${ADDRESS_HINT}`;
    case 'EACCES':
      return `Not allowed to listen on port ${port} of ${host}: ports below 1024 need privileges. Pass --port 1024 or above.`;
    default:
      return undefined;
  }
}
