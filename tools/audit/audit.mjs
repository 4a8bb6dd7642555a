// Runs the graphql-http server audits against a gateway URL and prints one
// line per audit. Exits 1 when any MUST audit fails. Usage: node audit.mjs URL
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:8080/graphql');
  process.exit(2);
}
const audits = serverAudits({ url, fetchFn: fetch });
let mustFailed = 0, counts = { ok: 0, warn: 0, error: 0 };
for (const audit of audits) {
  const result = await audit.fn();
  counts[result.status]++;
  const line = `${result.status.toUpperCase().padEnd(5)} ${audit.id} ${audit.name}`;
  if (result.status === 'ok') {
    console.log(line);
  } else {
    console.log(`${line}\n      ${result.reason}`);
    if (audit.name.startsWith('MUST')) mustFailed++;
  }
}
console.log(`audits: ${counts.ok} ok, ${counts.warn} warn, ${counts.error} error; MUST failures: ${mustFailed}`);
process.exit(mustFailed ? 1 : 0);
