// A real authorization server and a real MCP resource server on 127.0.0.1, for the
// end-to-end authorization tests (oidc.test.mjs, browser.test.mjs):
//
//   - the authorization server is npm `oidc-provider` (OpenID certified) with client
//     credentials, the device flow (RFC 8628), DPoP (RFC 9449), resource indicators
//     (RFC 8707: JWT access tokens whose `aud` is the MCP server URL), dynamic client
//     registration, PKCE S256 required, `iss` in authorization responses (RFC 9207) and its
//     built-in development login and consent forms (devInteractions);
//   - the resource server is the TypeScript SDK's `McpServer` over Streamable HTTP behind
//     express, guarded by a middleware written here: Protected Resource Metadata (RFC 9728),
//     401 with `resource_metadata`, the JWT access token checked against the authorization
//     server's JWKS (issuer, audience, expiry), and for DPoP-bound tokens (`cnf.jkt`) the
//     DPoP scheme plus a proof checked field by field. Every request it judged is recorded
//     in `stack.seen` so tests can assert how the bridge authenticated.
//
//   import { startAuthStack } from './oidc-provider.mjs';
//   const stack = await startAuthStack();      // { issuer, mcpUrl, clients, seen, ... }
//   ...; await stack.close();
//
// Pre-registered clients (stack.clients):
//   secret   client_secret_basic, client_credentials          { id, secret }
//   jwt      private_key_jwt (ES256), client_credentials     { id, keyFile } (PKCS#8 PEM)
//   native   public (none), authorization_code + refresh     { id, callbackPort, redirectUri }
//   device   public (none), device_code + refresh            { id }
//
// Options:
//   asNonce    the authorization server requires a DPoP nonce (use_dpop_nonce round)
//   rsNonce    the resource server requires a DPoP nonce in its proofs
//   dpopAlgs   the authorization server's dpop_signing_alg_values_supported (default ES256)
//   deviceInterval  the `interval` of device authorization responses (oidc-provider names none,
//              which means 5 s; 1 keeps the tests quick); null leaves it out
//   deviceComplete  false leaves verification_uri_complete out of device authorization responses
//   asScopes   more scopes for the authorization server's own list (scopes_supported), which
//              is what oidc-provider checks a registration's `scope` against
//
// Nothing here listens on anything but 127.0.0.1, and no token or secret is printed.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import express from 'express';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

import { freePort } from './peers.mjs';

export const MCP_SCOPE = 'mcp:tools';
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** Listens on 127.0.0.1:0 (or `port`) and resolves with the bound port. */
function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/**
 * oidc-provider announces its development defaults with console.info / console.warn; keep
 * those lines out of the test output (they are kept in `notices` for diagnostics). Installed
 * once per process and left in place, so stacks that overlap cannot undo each other's.
 */
const notices = [];
let quieted = false;
function quietOidcNotices() {
  if (quieted) return;
  quieted = true;
  for (const level of ['info', 'warn']) {
    const original = console[level];
    console[level] = (...args) => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) {
        notices.push(args[0]);
        return;
      }
      original(...args);
    };
  }
}

function sha256b64url(text) {
  return createHash('sha256').update(text).digest('base64url');
}

/** `scheme token` from an Authorization header, or null. */
function parseAuthorization(value) {
  const m = /^([A-Za-z]+) +([A-Za-z0-9\-._~+/]+=*)$/.exec(value ?? '');
  return m ? { scheme: m[1], token: m[2] } : null;
}

/**
 * Checks a DPoP proof (RFC 9449 section 4.3) for `req` and `token`; returns null when it
 * is valid, else the reason. `jtis` remembers the jti of every proof seen.
 */
async function checkDpopProof(req, { token, jkt, htu, jtis, nonce }) {
  const proofs = req.headers.dpop;
  if (proofs === undefined) return 'no DPoP header';
  if (Array.isArray(proofs) || proofs.includes(',')) return 'more than one DPoP header';
  let header;
  try {
    header = decodeProtectedHeader(proofs);
  } catch {
    return 'the proof is not a JWS';
  }
  if (header.typ !== 'dpop+jwt') return `typ is ${JSON.stringify(header.typ)}`;
  if (!header.alg || header.alg === 'none' || header.alg.startsWith('HS')) return `alg ${header.alg} is not asymmetric`;
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object') return 'no jwk in the header';
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) return 'the header jwk has private key members';
  let payload;
  try {
    const key = await importJWK(jwk, header.alg);
    ({ payload } = await jwtVerify(proofs, key, { typ: 'dpop+jwt', algorithms: [header.alg] }));
  } catch (err) {
    return `the signature does not verify with the header jwk (${err.code ?? err.message})`;
  }
  if ((await calculateJwkThumbprint(jwk, 'sha256')) !== jkt) return 'the jwk thumbprint is not the token\'s cnf.jkt';
  if (payload.htm !== req.method) return `htm ${payload.htm} is not ${req.method}`;
  let proofHtu;
  try {
    proofHtu = new URL(payload.htu);
    proofHtu.search = '';
    proofHtu.hash = '';
  } catch {
    return 'htu is not a URL';
  }
  if (proofHtu.href !== htu) return `htu ${payload.htu} is not ${htu}`;
  if (payload.ath !== sha256b64url(token)) return 'ath is not the hash of the access token';
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > 60) return `iat ${payload.iat} is not fresh`;
  if (typeof payload.jti !== 'string' || payload.jti.length < 8) return 'no usable jti';
  if (jtis.has(payload.jti)) return 'jti reused';
  jtis.add(payload.jti);
  if (nonce && payload.nonce !== nonce) return payload.nonce ? 'stale nonce' : 'use_dpop_nonce';
  return null;
}

/** The MCP server behind the token check: one stateless McpServer per request. */
function mcpHandler() {
  return async (req, res) => {
    const server = new McpServer({ name: 'oidc-interop-rs', version: '1.0.0' });
    server.registerTool(
      'whoami',
      { description: 'Says who the access token was issued to' },
      async (extra) => ({
        content: [{ type: 'text', text: JSON.stringify(extra.authInfo?.extra ?? null) }],
      }),
    );
    server.registerTool('echo', { description: 'Echoes a fixed word' }, async () => ({
      content: [{ type: 'text', text: 'echo: ok' }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close().catch(() => {});
      server.close().catch(() => {});
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: String(err) }, id: null });
    }
  };
}

/** Starts the authorization server and the resource server. See the top of the file. */
export async function startAuthStack({
  asNonce = false,
  rsNonce = false,
  dpopAlgs = ['ES256'],
  asScopes = [],
  deviceInterval = 1,
  deviceComplete = true,
} = {}) {
  quietOidcNotices();
  // Imported after the filter is in place: it warns about the Node version on import.
  const { default: Provider, errors: oidcErrors } = await import('oidc-provider');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-oidc-'));
  const asServer = http.createServer();
  const rsServer = http.createServer();
  try {
    const asPort = await listen(asServer);
    const rsPort = await listen(rsServer);
    const issuer = `http://127.0.0.1:${asPort}`;
    const mcpUrl = `http://127.0.0.1:${rsPort}/mcp`;
    const prmUrl = `http://127.0.0.1:${rsPort}/.well-known/oauth-protected-resource/mcp`;
    const callbackPort = await freePort();
    const redirectUri = `http://127.0.0.1:${callbackPort}/oauth/callback`;

    // The authorization server's signing key (access tokens and ID tokens).
    const signing = await generateKeyPair('ES256', { extractable: true });
    const signingJwk = { ...(await exportJWK(signing.privateKey)), kid: 'as-es256', alg: 'ES256', use: 'sig' };
    // The private_key_jwt client's key: the public half registered, the private half a file.
    const clientKey = await generateKeyPair('ES256', { extractable: true });
    const clientPublicJwk = { ...(await exportJWK(clientKey.publicKey)), kid: 'client-es256', alg: 'ES256', use: 'sig' };
    const keyFile = path.join(dir, 'client-key.pem');
    writeFileSync(keyFile, await exportPKCS8(clientKey.privateKey), { mode: 0o600 });

    const clients = {
      secret: { id: 'cc-secret-client', secret: randomBytes(32).toString('base64url') },
      jwt: { id: 'cc-jwt-client', keyFile },
      native: { id: 'native-client', callbackPort, redirectUri },
      device: { id: 'device-client' },
    };

    const resourceServerInfo = {
      scope: MCP_SCOPE,
      audience: mcpUrl,
      accessTokenFormat: 'jwt',
      accessTokenTTL: 600,
      jwt: { sign: { alg: 'ES256' } },
    };

    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: clients.secret.id,
          client_secret: clients.secret.secret,
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
        },
        {
          client_id: clients.jwt.id,
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          jwks: { keys: [clientPublicJwk] },
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
        },
        {
          client_id: clients.native.id,
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [redirectUri],
        },
        {
          client_id: clients.device.id,
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          grant_types: [DEVICE_GRANT, 'refresh_token'],
          response_types: [],
          redirect_uris: [],
        },
      ],
      clientDefaults: { id_token_signed_response_alg: 'ES256' },
      jwks: { keys: [signingJwk] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      scopes: ['openid', 'offline_access', ...asScopes],
      pkce: { required: () => true },
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
      clientBasedCORS: () => false,
      enabledJWA: { dPoPSigningAlgValues: dpopAlgs },
      ttl: {
        AccessToken: 600,
        ClientCredentials: 600,
        AuthorizationCode: 60,
        DeviceCode: 300,
        IdToken: 600,
        RefreshToken: 3600,
        Interaction: 600,
        Session: 3600,
        Grant: 3600,
      },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        deviceFlow: { enabled: true },
        dPoP: {
          enabled: true,
          ...(asNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
        },
        registration: { enabled: true },
        revocation: { enabled: true },
        introspection: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => mcpUrl,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx, indicator) => {
            if (indicator !== mcpUrl) throw new oidcErrors.InvalidTarget();
            return resourceServerInfo;
          },
        },
      },
    });
    // The device authorization response as the options say (RFC 8628 section 3.2).
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.oidc?.route !== 'device_authorization' || !ctx.body?.device_code) return;
      const body = { ...ctx.body };
      if (deviceInterval !== null) body.interval = deviceInterval;
      if (!deviceComplete) delete body.verification_uri_complete;
      ctx.body = body;
    });
    // What the authorization server refused or failed at, for test diagnostics.
    const asErrors = [];
    for (const event of ['server_error', 'grant.error', 'authorization.error', 'registration_create.error', 'introspection.error', 'revocation.error']) {
      provider.on(event, (_ctx, err) => asErrors.push(`${event}: ${err?.name ?? ''} ${err?.message ?? err} ${err?.error_description ?? ''}`.trim()));
    }
    // Refresh tokens, codes and device codes it issued (opaque: the value is the jti), so
    // tests can check that none of them reaches a log.
    const issuedSecrets = new Set();
    for (const event of ['refresh_token.saved', 'authorization_code.saved', 'device_code.saved']) {
      provider.on(event, (model) => {
        if (model?.jti) issuedSecrets.add(model.jti);
      });
    }
    // Every request to the authorization server: { method, path, status, dpop }.
    const asRequests = [];
    asServer.on('request', (req, res) => {
      const entry = { method: req.method, path: req.url.split('?')[0], status: null, dpop: 'dpop' in req.headers };
      asRequests.push(entry);
      res.on('finish', () => {
        entry.status = res.statusCode;
      });
    });
    asServer.on('request', provider.callback());

    // --- the resource server -------------------------------------------------------
    const seen = [];
    const jtis = new Set();
    let currentRsNonce = rsNonce ? randomBytes(16).toString('base64url') : null;
    const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
    const resourceMetadata = {
      resource: mcpUrl,
      authorization_servers: [issuer],
      scopes_supported: [MCP_SCOPE],
      bearer_methods_supported: ['header'],
      resource_name: 'oidc interop MCP server',
    };
    const challenge = (res, scheme, extra = '') => {
      res.set('WWW-Authenticate', `${scheme} resource_metadata="${prmUrl}"${extra}`);
      res.status(401).json({ error: 'unauthorized' });
    };

    const app = express();
    app.disable('x-powered-by');
    app.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => res.json(resourceMetadata));
    app.use('/mcp', express.json({ limit: '4mb' }), async (req, res, next) => {
      const record = { method: req.method, scheme: null, bound: null, proof: null, ok: false, why: null };
      seen.push(record);
      const refuse = (why, scheme = 'Bearer', extra = ', error="invalid_token"') => {
        record.why = why;
        challenge(res, scheme, extra);
      };
      const auth = parseAuthorization(req.headers.authorization);
      if (!auth) return refuse(req.headers.authorization ? 'malformed Authorization header' : 'no token', 'Bearer', '');
      record.scheme = auth.scheme;
      record.token = auth.token;
      if (!['bearer', 'dpop'].includes(auth.scheme.toLowerCase())) return refuse(`unknown scheme ${auth.scheme}`);
      let payload;
      try {
        ({ payload } = await jwtVerify(auth.token, jwks, { issuer, audience: mcpUrl, typ: 'at+jwt', algorithms: ['ES256'] }));
      } catch (err) {
        return refuse(`token refused: ${err.code ?? err.message}`);
      }
      const jkt = payload.cnf?.jkt;
      record.bound = Boolean(jkt);
      record.aud = payload.aud;
      record.scope = payload.scope;
      record.clientId = payload.client_id;
      record.sub = payload.sub;
      if (jkt) {
        if (auth.scheme !== 'DPoP') return refuse('a DPoP-bound token sent with the Bearer scheme', 'DPoP', ', error="invalid_token"');
        const why = await checkDpopProof(req, {
          token: auth.token,
          jkt,
          htu: `http://127.0.0.1:${rsPort}${req.baseUrl}${req.path === '/' ? '' : req.path}`,
          jtis,
          nonce: currentRsNonce,
        });
        if (why === 'use_dpop_nonce') {
          record.proof = 'needs nonce';
          record.why = why;
          res.set('DPoP-Nonce', currentRsNonce);
          res.set('WWW-Authenticate', 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"');
          return res.status(401).json({ error: 'use_dpop_nonce' });
        }
        record.proof = why ?? 'valid';
        if (why) return refuse(`DPoP proof refused: ${why}`, 'DPoP', ', error="invalid_dpop_proof"');
      } else if (auth.scheme !== 'Bearer') {
        return refuse('the DPoP scheme with a token that is not DPoP-bound');
      }
      record.ok = true;
      const scopes = String(payload.scope ?? '').split(' ').filter(Boolean);
      req.auth = {
        token: auth.token,
        clientId: payload.client_id,
        scopes,
        expiresAt: payload.exp,
        extra: { sub: payload.sub ?? null, client_id: payload.client_id, scope: payload.scope ?? null, bound: Boolean(jkt) },
      };
      return next();
    }, mcpHandler());
    rsServer.on('request', app);

    const stack = {
      issuer,
      mcpUrl,
      prmUrl,
      clients,
      provider,
      /** Every request to /mcp, judged: { method, scheme, bound, proof, ok, why, token, ... }. */
      seen,
      asErrors,
      asRequests,
      notices,
      /** The requests that carried a token and were let through. */
      accepted: () => seen.filter((r) => r.ok),
      /** Every access token the resource server was shown. */
      tokens: () => [...new Set(seen.map((r) => r.token).filter(Boolean))],
      /** Every secret to keep out of logs: access tokens seen, refresh tokens, codes, the client secret. */
      secrets: () => [...stack.tokens(), ...issuedSecrets, clients.secret.secret],
      /** Starts a new nonce for the resource server's DPoP proofs (rsNonce only). */
      rotateRsNonce() {
        if (rsNonce) currentRsNonce = randomBytes(16).toString('base64url');
      },
      /** For assertion messages: what the servers saw, without the tokens. */
      describe() {
        const rows = seen.map(({ token, ...r }) => r);
        return [
          `resource server saw: ${JSON.stringify(rows)}`,
          `authorization server requests: ${JSON.stringify(asRequests)}`,
          `authorization server errors: ${JSON.stringify(asErrors)}`,
        ].join('\n');
      },
      async close() {
        await Promise.all([closeServer(asServer), closeServer(rsServer)]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (err) {
    await Promise.all([closeServer(asServer), closeServer(rsServer)]);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
