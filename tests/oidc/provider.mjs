// A real OpenID Connect provider for Lydlogg's single sign-on test: panva/oidc-provider (an
// OpenID-certified implementation) with its development log-in screens.
//   node provider.mjs <port> <redirect_uri> <client_secret>
// Accounts (all but per log in at the assurance level urn:lv:loa:high, sent as the ID token's acr):
//   kari: role claim lydlogg-leder;  ola: no Lydlogg role;  per: lydlogg-leder at urn:lv:loa:substantial;
//   eva: lydlogg-leder (her account's role is pinned in the test);  tor: lydlogg-veileder.
// Any password is accepted by the development log-in screen; the test is about the protocol, not
// the provider's passwords.
import Provider from "oidc-provider";

const [port, redirectUri, clientSecret] = process.argv.slice(2);
const HIGH = "urn:lv:loa:high";
const accounts = {
  kari: { sub: "kari", name: "Kari Nordmann", email: "kari@legevakt.test", roles: ["lydlogg-leder"], acr: HIGH },
  ola: { sub: "ola", name: "Ola Nordmann", email: "ola@legevakt.test", roles: ["andre"], acr: HIGH },
  per: { sub: "per", name: "Per Nordmann", email: "per@legevakt.test", roles: ["lydlogg-leder"], acr: "urn:lv:loa:substantial" },
  eva: { sub: "eva", name: "Eva Nordmann", email: "eva@legevakt.test", roles: ["lydlogg-leder"], acr: HIGH },
  tor: { sub: "tor", name: "Tor Nordmann", email: "tor@legevakt.test", roles: ["lydlogg-veileder"], acr: HIGH },
};
const claimsOf = ({ acr, ...claims }) => claims; // acr comes from the log-in, not the profile

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
  // acr is a claim of its own; listed under openid it goes into every ID token that has one
  claims: { acr: null, openid: ["sub", "acr"], profile: ["name", "roles"], email: ["email"] },
  conformIdTokenClaims: false, // put the profile claims in the ID token, where st.user reads them
  acrValues: [HIGH, "urn:lv:loa:substantial"],
  findAccount: async (ctx, id) =>
    accounts[id] ? { accountId: id, claims: async () => claimsOf(accounts[id]) } : undefined,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["lydlogg-test-only"] },
});
provider.proxy = false;
// The development log-in screen finishes with the account only; add the account's assurance level,
// as a real provider does for the means of log-in used (it lands in the ID token's acr).
const finished = provider.interactionFinished.bind(provider);
provider.interactionFinished = (req, res, result, options) => {
  const account = result.login && accounts[result.login.accountId];
  if (account) result.login.acr = account.acr;
  return finished(req, res, result, options);
};
provider.listen(Number(port), () => console.log(`oidc provider ready on ${port}`));
