#!/usr/bin/env node
// Compiles every Solidity source under contracts/src with solc-js (the exact
// version pinned in tests/e2e/package.json) into contracts/out/<Contract>.json
// ({ abi, bytecode, deployedBytecode, ... }).
//
//   node tests/e2e/compile.mjs           write artifacts that changed
//   node tests/e2e/compile.mjs --check   write nothing; exit 1 if any artifact
//                                        is missing or stale (used by CI and
//                                        by the e2e tests)
//
// Output is deterministic (same solc, same settings, same sources => same
// bytes, the CBOR metadata hash included), so a byte comparison is a
// sufficient freshness check.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc');

const here = path.dirname(fileURLToPath(import.meta.url));
const contractsDir = path.resolve(here, '../../contracts');
const srcDir = path.join(contractsDir, 'src');
const outDir = path.join(contractsDir, 'out');
const check = process.argv.includes('--check');

// Keep in step with what the node's EVM supports (revm: Cancun and later).
const settings = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

function listSol(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listSol(p);
    return e.name.endsWith('.sol') ? [p] : [];
  }).sort();
}

// Sources are named relative to contracts/ ("src/VeraiToken.sol"); imports
// resolve against contracts/ too.
const sources = {};
for (const file of listSol(srcDir)) {
  const key = path.relative(contractsDir, file).split(path.sep).join('/');
  sources[key] = { content: fs.readFileSync(file, 'utf8') };
}
if (Object.keys(sources).length === 0) {
  console.error(`compile.mjs: no .sol files under ${srcDir}`);
  process.exit(1);
}

function findImports(importPath) {
  const p = path.resolve(contractsDir, importPath);
  if (!p.startsWith(contractsDir + path.sep)) return { error: `import outside contracts/: ${importPath}` };
  try {
    return { contents: fs.readFileSync(p, 'utf8') };
  } catch (e) {
    return { error: `cannot read ${importPath}: ${e.message}` };
  }
}

const input = { language: 'Solidity', sources, settings };
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const diagnostics = output.errors ?? [];
for (const d of diagnostics) console.error(d.formattedMessage ?? d.message);
if (diagnostics.some((d) => d.severity === 'error')) {
  console.error('compile.mjs: compilation failed');
  process.exit(1);
}

const compilerVersion = solc.version();
const artifacts = new Map();
for (const [sourceName, contracts] of Object.entries(output.contracts ?? {})) {
  for (const [contractName, c] of Object.entries(contracts)) {
    if (artifacts.has(contractName)) {
      console.error(`compile.mjs: duplicate contract name ${contractName}`);
      process.exit(1);
    }
    const artifact = {
      contractName,
      sourceName,
      compiler: { name: 'solc-js', version: compilerVersion, settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer } },
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    };
    artifacts.set(contractName, JSON.stringify(artifact, null, 2) + '\n');
  }
}

let stale = 0;
if (!check) fs.mkdirSync(outDir, { recursive: true });
for (const [name, text] of artifacts) {
  const file = path.join(outDir, `${name}.json`);
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  if (old === text) continue;
  if (check) {
    console.error(`compile.mjs: ${path.relative(process.cwd(), file)} is ${old === null ? 'missing' : 'stale'}; run: node tests/e2e/compile.mjs`);
    stale++;
  } else {
    fs.writeFileSync(file, text);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
if (stale) process.exit(1);
if (check) console.log(`compile.mjs: ${artifacts.size} artifact(s) up to date (solc ${compilerVersion})`);
