// A real OpenID Connect provider for Lydlogg's single sign-on test: panva/oidc-provider (an
// OpenID-certified implementation) with its development log-in screens.
//   node provider.mjs <port> <redirect_uri> <client_secret>
// Accounts: kari (role claim lydlogg-leder), ola (no Lydlogg role). Any password is accepted by
// the development log-in screen; the test is about the protocol, not the provider's passwords.
import Provider from "oidc-provider";

const [port, redirectUri, clientSecret] = process.argv.slice(2);
const accounts = {
  kari: { sub: "kari", name: "Kari Nordmann", email: "kari@legevakt.test", roles: ["lydlogg-leder"] },
  ola: { sub: "ola", name: "Ola Nordmann", email: "ola@legevakt.test", roles: ["andre"] },
};

const provider = new Provider(`http://localhost:${port}`, {
  clients: [
    {
      client_id: "lydlogg",
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      response_types: ["code"],
      grant_types: ["authorization_code"],
    },
  ],
  claims: { openid: ["sub"], profile: ["name", "roles"], email: ["email"] },
  conformIdTokenClaims: false, // put the profile claims in the ID token, where st.user reads them
  findAccount: async (ctx, id) =>
    accounts[id] ? { accountId: id, claims: async () => accounts[id] } : undefined,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["lydlogg-test-only"] },
});
provider.proxy = false;
provider.listen(Number(port), () => console.log(`oidc provider ready on ${port}`));
