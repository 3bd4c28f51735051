#!/usr/bin/env node
// A tiny logging JSON-RPC proxy, to see which methods real clients call.
//
//   node tests/e2e/rpc-log-proxy.mjs --listen 18545 --upstream http://127.0.0.1:8545 [--log FILE]
//
// Point a client at http://127.0.0.1:18545: every request is forwarded to the
// upstream unchanged and one line per call (batch entries included) is
// written as `method<TAB>params-json<TAB>ok|error-code[<TAB>batch of N]` to FILE (default
// stderr). `sort | uniq -c` over the first column gives the method list.
import http from 'node:http';
import fs from 'node:fs';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const listen = Number(arg('listen', '18545'));
const upstream = new URL(arg('upstream', 'http://127.0.0.1:8545'));
const logFile = arg('log', null);
const out = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : process.stderr;

function logCalls(reqBody, resBody) {
  let reqs, ress;
  try { reqs = JSON.parse(reqBody); } catch { out.write(`<unparsable request>\n`); return; }
  try { ress = JSON.parse(resBody); } catch { ress = null; }
  const list = Array.isArray(reqs) ? reqs : [reqs];
  const resList = Array.isArray(ress) ? ress : [ress];
  for (const r of list) {
    const res = resList.find((x) => x && x.id === r.id);
    const status = res && res.error ? `error ${res.error.code} ${res.error.message}` : 'ok';
    let params = JSON.stringify(r.params ?? []);
    if (params.length > 200) params = params.slice(0, 200) + '...';
    const batch = Array.isArray(reqs) ? `\tbatch of ${list.length}` : '';
    out.write(`${r.method}\t${params}\t${status}${batch}\n`);
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const up = http.request({
      hostname: upstream.hostname, port: upstream.port, path: upstream.pathname, method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', 'content-length': body.length },
    }, (ur) => {
      const rc = [];
      ur.on('data', (c) => rc.push(c));
      ur.on('end', () => {
        const rbody = Buffer.concat(rc);
        if (req.method === 'POST') logCalls(body.toString(), rbody.toString());
        res.writeHead(ur.statusCode, { 'content-type': ur.headers['content-type'] ?? 'application/json' });
        res.end(rbody);
      });
    });
    up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    up.end(body);
  });
});
server.listen(listen, '127.0.0.1', () => console.error(`rpc-log-proxy: 127.0.0.1:${listen} -> ${upstream.href}`));
