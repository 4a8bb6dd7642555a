// Opens the gateway's playground in headless Chromium, runs the default
// query with the execute button and checks the response pane shows
// customers. With a second URL, a page on another origin, it also calls the
// gateway from there with fetch (a CORS preflight, then the request).
// With PLAYGROUND_KEY set (a gateway that requires keys), it instead types
// the key into Headers once and checks that the schema is fetched again with
// it, and that after a reload the key is still there and used at once.
// Exits 1 otherwise.
// Usage: node playground.mjs http://127.0.0.1:8080/ [http://127.0.0.1:9999/]
import { chromium } from 'playwright-core';

const url = process.argv[2];
if (!url) {
  console.error('usage: node playground.mjs http://127.0.0.1:8080/');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
const isSchemaFetch = (r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' &&
  (r.request().postData() ?? '').includes('__schema');

// withKey: the first schema fetch is refused (no key yet); the key typed into
// the header editor fetches it again; a reload keeps the key and uses it.
async function withKey(key) {
  const page = await browser.newPage();
  const first = page.waitForResponse(isSchemaFetch, { timeout: 15000 });
  await page.goto(url, { waitUntil: 'load' });
  const refused = await first;
  console.log(`schema fetch before the key: HTTP ${refused.status()}`);
  if (refused.status() !== 401) return false;
  await page.getByRole('button', { name: 'Headers' }).click();
  const again = page.waitForResponse((r) => isSchemaFetch(r) && r.status() === 200, { timeout: 15000 });
  // CodeMirror closes brackets as one types: set the editor's text as a paste would
  await page.evaluate((text) => {
    const cm = document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
    cm.CodeMirror.setValue(text);
  }, JSON.stringify({ 'X-API-Key': key }));
  const fetched = await again;
  console.log(`schema fetched again once the key was typed: HTTP ${fetched.status()}`);
  const reloaded = page.waitForResponse(isSchemaFetch, { timeout: 15000 });
  await page.reload({ waitUntil: 'load' });
  const afterReload = await reloaded;
  const sent = afterReload.request().headers()['x-api-key'];
  console.log(`after a reload, the first schema fetch: HTTP ${afterReload.status()}, key sent: ${sent === key}`);
  if (afterReload.status() !== 200 || sent !== key) return false;
  const run = page.locator('.graphiql-execute-button');
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' && !isSchemaFetch(r), { timeout: 15000 }),
    run.click(),
  ]);
  const body = await resp.json();
  console.log(`the default query with the kept key: HTTP ${resp.status()}, ${body?.data?.customers?.nodes?.length ?? 0} customers`);
  return resp.status() === 200 && !body.errors;
}

try {
  if (process.env.PLAYGROUND_KEY) {
    failed = !(await withKey(process.env.PLAYGROUND_KEY));
    await browser.close();
    process.exit(failed ? 1 : 0);
  }
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(url, { waitUntil: 'load' });
  const run = page.locator('.graphiql-execute-button');
  await run.waitFor({ timeout: 15000 });
  const [resp] = await Promise.all([
    // GraphiQL's own schema introspection is a POST to /graphql too, and it
    // may still be in flight when the button appears: wait for the query.
    page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' &&
      !(r.request().postData() ?? '').includes('__schema'), { timeout: 15000 }),
    run.click(),
  ]);
  const body = await resp.json();
  const nodes = body?.data?.customers?.nodes ?? [];
  const pane = page.locator('.graphiql-response');
  await pane.getByText('"providerId"').first().waitFor({ timeout: 15000 });
  console.log(`playground ran the default query: HTTP ${resp.status()}, ${nodes.length} customers, shown in the response pane`);
  if (resp.status() !== 200 || nodes.length !== 10 || body.errors) {
    console.log(JSON.stringify(body).slice(0, 2000));
    failed = true;
  }
  if (errors.length) {
    console.log('browser errors:', errors.join('\n'));
    failed = true;
  }
  const other = process.argv[3];
  if (other) {
    // a frontend app on another origin: Authorization and a JSON body make
    // the browser send a preflight first, and read the answer only if the
    // gateway's CORS headers allow that origin
    const app = await browser.newPage();
    await app.goto(other, { waitUntil: 'load' });
    const got = await app.evaluate(async (endpoint) => {
      try {
        const r = await fetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer from-the-app' },
          body: JSON.stringify({ query: '{ customers(first: 2) { nodes { id } } }' }),
        });
        const body = await r.json();
        return { status: r.status, nodes: body?.data?.customers?.nodes?.length ?? 0 };
      } catch (e) {
        return { error: String(e) };
      }
    }, new URL('graphql', url).href);
    console.log(`cross-origin fetch from ${new URL(other).origin}: ${JSON.stringify(got)}`);
    if (got.error || got.status !== 200 || got.nodes !== 2) {
      failed = true;
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
