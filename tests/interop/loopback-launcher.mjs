// Runs a Node server script with every bare `listen(port)` bound to 127.0.0.1.
//
// usage: node loopback-launcher.mjs SCRIPT [ARGS...]
//
// Example servers such as the TypeScript SDK's simpleStreamableHttp.js (and
// its demo authorization server) call `app.listen(PORT)`, which binds every
// interface. The interop tests only ever talk to loopback, so before loading
// the script we make a `listen(port[, callback])` without a host bind
// 127.0.0.1 instead. Nothing else about the server is changed.
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const script = process.argv[2];
if (!script) {
  console.error('usage: node loopback-launcher.mjs SCRIPT [ARGS...]');
  process.exit(2);
}

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first, second] = args;
  const isPort = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first));
  if (isPort && (args.length === 1 || typeof second === 'function')) {
    return originalListen.call(this, Number(first), '127.0.0.1', ...args.slice(1));
  }
  return originalListen.apply(this, args);
};

const entry = path.resolve(script);
process.argv = [process.argv[0], entry, ...process.argv.slice(3)];
await import(pathToFileURL(entry).href);
