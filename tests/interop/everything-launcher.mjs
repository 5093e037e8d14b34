// Starts @modelcontextprotocol/server-everything bound to 127.0.0.1 only.
//
// usage: node everything-launcher.mjs streamableHttp|sse   (port from env PORT)
//
// The upstream server calls `app.listen(PORT)`, which binds every interface.
// The interop tests only ever talk to loopback, so before loading the server we
// make a bare `listen(port[, callback])` bind 127.0.0.1 instead. Nothing else
// about the server is changed.
import net from 'node:net';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const mode = process.argv[2];
if (mode !== 'streamableHttp' && mode !== 'sse') {
  console.error('usage: node everything-launcher.mjs streamableHttp|sse (PORT in env)');
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

// Load the package's own entry point with the chosen transport as its argument.
const require = createRequire(import.meta.url);
const pkgJson = require.resolve('@modelcontextprotocol/server-everything/package.json');
const entry = new URL('dist/index.js', pathToFileURL(pkgJson));
process.argv = [process.argv[0], entry.pathname, mode];
await import(entry.href);
