// Runs INSIDE a fresh network + mount namespace (see no-egress.test.ts): only loopback exists, and /etc/resolv.conf
// points at the DNS stub below, which answers NXDOMAIN to everything and records each queried name, one per line.
// Then either spawns the server and sends it requests from here (mode "server"), or does one dns.lookup (mode
// "lookup", the positive control). Prints one JSON line with what happened. Plain JS: it runs without a compile step.
'use strict';
const dgram = require('node:dgram');
const dns = require('node:dns');
const { spawn } = require('node:child_process');
const { appendFileSync, writeFileSync } = require('node:fs');

const opts = JSON.parse(process.argv[2]);

/** The question name of a DNS query (RFC 1035 4.1.2): length-prefixed labels after the 12-byte header. */
function questionName(msg) {
  const labels = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0 && labels.length < 128) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString('latin1'));
    i += 1 + msg[i];
  }
  return { name: labels.join('.'), end: Math.min(i + 5, msg.length) };
}

function startStub() {
  writeFileSync(opts.queriesFile, '');
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const { name, end } = questionName(msg);
    appendFileSync(opts.queriesFile, `${name}\n`);
    // Same id and question, QR=1, RD copied, RA=1, RCODE=3 (NXDOMAIN): the resolver gives up at once, no retries.
    const reply = Buffer.from(msg.subarray(0, end));
    reply[2] = 0x80 | (msg[2] & 0x01);
    reply[3] = 0x83;
    reply.writeUInt16BE(1, 4);
    reply.fill(0, 6, 12);
    sock.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(53, '127.0.0.1', () => resolve(sock));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function serve() {
  const server = spawn(opts.node, [opts.main], { env: opts.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => server.once('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${opts.env.PORT}`;
  const deadline = Date.now() + opts.readyTimeoutMs;
  let ready = false;
  while (!ready && Date.now() < deadline && server.exitCode === null) {
    ready = await fetch(`${base}/v2/health/ready`).then((r) => r.ok, () => false);
    if (!ready) await sleep(100);
  }
  const statuses = [];
  if (ready) {
    for (let i = 0; i < opts.requests; i++) {
      const res = await fetch(`${base}${opts.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: opts.body });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    // Give anything asynchronous (a telemetry upload after the first session run) time to show itself.
    await sleep(opts.lingerMs);
  }
  server.kill('SIGTERM');
  const exitCode = await Promise.race([exited, sleep(10_000).then(() => (server.kill('SIGKILL'), 'killed'))]);
  return { ready, statuses, exitCode, stderr: stderr.slice(-2000) };
}

async function lookup() {
  const result = await dns.promises.lookup(opts.host).then((a) => a.address, (err) => err.code);
  return { lookup: result };
}

(async () => {
  const stub = await startStub();
  const result = opts.mode === 'lookup' ? await lookup() : await serve();
  stub.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
})().catch((err) => {
  process.stdout.write(`${JSON.stringify({ error: String(err && err.stack ? err.stack : err) })}\n`);
  process.exit(1);
});
