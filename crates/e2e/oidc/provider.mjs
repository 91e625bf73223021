// A certified third-party OpenID provider (panva's oidc-provider, OpenID Certified) for the
// end-to-end suite, with its defaults wherever the portal must cope with them: its own login and
// consent pages (devInteractions: any login name is an account), its token answers, its GET-only
// end session, refresh-token rotation with reuse detection, `offline_access` only with
// `prompt=consent`, resource indicators with JWT access tokens for the MES.
//
// Only what a site must set is set here: the portal as a public client (PKCE), a service client
// for background jobs, the MES as a resource server, fixed cookie keys, a store that outlives a
// restart (as a real authority's database does), and — when a test asks — the operator's choice
// that makes a sign-out reach every grid (OIDC_REFRESH_TOKENS_END_WITH_SESSION, see below).
//
//   node provider.mjs PORT ISSUER_ORIGIN PORTAL_ORIGIN
//
// Listens on 127.0.0.1:PORT, its issuer ISSUER_ORIGIN/op (its own http://127.0.0.1:PORT, or the
// https origin of the TLS proxy in front of it), and prints one line, `ready <issuer>`, when it
// listens. Installed by `cargo xtask test` into target/tools/oidc (npm oidc-provider@9).
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(process.env.OIDC_PROVIDER_MODULES + "/");
const { default: Provider } = await import(require.resolve("oidc-provider"));

const [port, issuerOrigin, portalOrigin] = process.argv.slice(2);
const prefix = "/op";
const issuer = `${issuerOrigin}${prefix}`;
// The MES Web API as a resource server: tokens for it are JWTs with this audience and scope.
const MES_RESOURCE = "urn:mes-web-api";
const MES_AUDIENCE = "mes-web-api";
// How long its access tokens for the MES last (tests of renewal shorten it).
const ACCESS_TOKEN_TTL = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);

// Its store in a file (OIDC_STORE): sessions, grants, refresh tokens. The package's default
// store is the process's memory, so a restart — a test's outage — would forget every session,
// which a real authority with its database does not.
const storePath = process.env.OIDC_STORE;
const stored = storePath && fs.existsSync(storePath) ? JSON.parse(fs.readFileSync(storePath, "utf8")) : {};
const save = () => storePath && fs.writeFileSync(storePath, JSON.stringify(stored));
class FileAdapter {
  constructor(model) {
    this.model = model;
    stored[model] ||= {};
  }
  entries() {
    return Object.entries(stored[this.model]);
  }
  async upsert(id, payload, expiresIn) {
    stored[this.model][id] = { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null };
    save();
  }
  async find(id) {
    const entry = stored[this.model][id];
    if (!entry || (entry.expiresAt && entry.expiresAt < Date.now())) return undefined;
    return entry.payload;
  }
  async findByUid(uid) {
    const found = this.entries().find(([, e]) => e.payload.uid === uid);
    return found ? this.find(found[0]) : undefined;
  }
  async findByUserCode(userCode) {
    const found = this.entries().find(([, e]) => e.payload.userCode === userCode);
    return found ? this.find(found[0]) : undefined;
  }
  async consume(id) {
    const entry = stored[this.model][id];
    if (entry) {
      entry.payload.consumed = Math.floor(Date.now() / 1000);
      save();
    }
  }
  async destroy(id) {
    delete stored[this.model][id];
    save();
  }
  async revokeByGrantId(grantId) {
    for (const entries of Object.values(stored)) {
      for (const [id, e] of Object.entries(entries)) {
        if (e.payload.grantId === grantId) delete entries[id];
      }
    }
    save();
  }
}

const provider = new Provider(issuer, {
  adapter: FileAdapter,
  // Fixed, so its cookies still verify after a restart.
  cookies: { keys: ["e2e-provider-cookie-key-not-a-secret"] },
  clients: [
    {
      client_id: "mes-portal",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: [`${portalOrigin}/callback`],
      post_logout_redirect_uris: [`${portalOrigin}/signed-out`],
    },
    {
      client_id: "scheduler",
      client_secret: "scheduler-secret-for-tests",
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => MES_RESOURCE,
      // One resource server: the code exchange gets the granted MES resource without naming it
      // (the provider's documented recommendation for a single resource server).
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== MES_RESOURCE) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope: `${MES_AUDIENCE} system`,
          audience: MES_AUDIENCE,
          accessTokenFormat: "jwt",
          accessTokenTTL: ACCESS_TOKEN_TTL,
          jwt: { sign: { alg: "RS256" } },
        };
      },
    },
  },
  // The MES finds the person by name.
  claims: { openid: ["sub"], profile: ["preferred_username", "name"] },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, preferred_username: id, name: id }),
  }),
  extraTokenClaims: (_ctx, token) =>
    token.accountId ? { preferred_username: token.accountId } : undefined,
  // The operator's choice a test may make (its default issues refresh tokens only for
  // `offline_access`, which it grants only with `prompt=consent`): refresh tokens for the portal
  // without `offline_access`. The package binds those to the sign-in session (its default
  // `expiresWithSession`), so signing out ends them — the counterpart of IdentityServer's
  // CoordinateLifetimeWithUserSession that docs/deploy.md asks of AIM.
  ...(process.env.OIDC_REFRESH_TOKENS_END_WITH_SESSION === "1"
    ? { issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token") }
    : {}),
});
// Behind the TLS proxy, it builds its addresses from the proxy's X-Forwarded-Proto and -Host.
provider.proxy = issuerOrigin.startsWith("https:");

const callback = provider.callback();
http
  .createServer((req, res) => {
    if (!req.url.startsWith(prefix)) {
      res.statusCode = 404;
      return res.end();
    }
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || "/";
    callback(req, res);
  })
  .listen(Number(port), "127.0.0.1", () => console.log(`ready ${issuer}`));

// What it issued and refused, for a failing test's reader (stderr goes to a log file).
provider.on("access_token.issued", (t) => console.error("issued access token", t.kind, t.format, JSON.stringify(t.aud), t.scope));
provider.on("access_token.saved", (t) => console.error("saved access token", t.kind, t.format, JSON.stringify(t.aud), t.scope));
provider.on("grant.error", (_ctx, e) => console.error("grant error", e.message, e.error_description));
provider.on("server_error", (_ctx, e) => console.error("server error", e));
