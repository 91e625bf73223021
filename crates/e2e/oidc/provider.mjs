// A certified third-party OpenID provider (panva's oidc-provider, OpenID Certified) for the
// end-to-end suite, with its defaults wherever the portal must cope with them: its own login and
// consent pages (devInteractions: any login name is an account), its token answers, its GET-only
// end session, refresh-token rotation with reuse detection, `offline_access` only with
// `prompt=consent`, resource indicators with JWT access tokens for the MES.
//
// Only what a site must register is set here: the portal as a public client (PKCE), a service
// client for background jobs, and the MES as a resource server.
//
//   node provider.mjs PORT PORTAL_ORIGIN
//
// Serves http://127.0.0.1:PORT/op (the issuer) and prints one line, `ready <issuer>`, when it
// listens. Installed by `cargo xtask test` into target/tools/oidc (npm oidc-provider@9).
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(process.env.OIDC_PROVIDER_MODULES + "/");
const { default: Provider } = await import(require.resolve("oidc-provider"));

const [port, portalOrigin] = process.argv.slice(2);
const prefix = "/op";
const issuer = `http://127.0.0.1:${port}${prefix}`;
// The MES Web API as a resource server: tokens for it are JWTs with this audience and scope.
const MES_RESOURCE = "urn:mes-web-api";
const MES_AUDIENCE = "mes-web-api";
// How long its access tokens for the MES last (tests of renewal shorten it).
const ACCESS_TOKEN_TTL = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);

const provider = new Provider(issuer, {
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
});
provider.proxy = false;

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
