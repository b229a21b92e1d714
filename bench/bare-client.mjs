// The yardstick of `npm run bench:smoke`: the same three requests as a passing smoke test (anonymous
// POST to the trigger, client-credentials token, POST with the token), as a bare Node script with no
// dependency at all. Usage: node bench/bare-client.mjs TRIGGER_URL TOKEN_ENDPOINT CLIENT_ID SCOPE (secret in FLOW_CLIENT_SECRET).
const [triggerUrl, tokenEndpoint, clientId, scope] = process.argv.slice(2);
const anonymous = await fetch(triggerUrl, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: "{}",
});
await anonymous.arrayBuffer();
const form = new URLSearchParams({
  grant_type: "client_credentials",
  client_id: clientId,
  client_secret: process.env.FLOW_CLIENT_SECRET ?? "",
  scope,
});
const token = await (await fetch(tokenEndpoint, { method: "POST", body: form })).json();
const invoke = await fetch(triggerUrl, {
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${token.access_token}` },
  body: "{}",
});
await invoke.arrayBuffer();
process.exitCode = anonymous.status === 401 && invoke.status === 202 ? 0 : 1;
