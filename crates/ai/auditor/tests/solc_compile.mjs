// Compiles Solidity files with the solc-js that tests/e2e pins and prints
// {"ContractName": "<deployed bytecode hex>", ...}. Used by bytecode_agreement.rs.
// One process for all files: loading solc-js takes seconds.
//   node solc_compile.mjs REPO_ROOT FILE.sol...
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [root, ...files] = process.argv.slice(2);
const require = createRequire(path.join(root, 'tests/e2e/package.json'));
const solc = require('solc');
const input = {
  language: 'Solidity',
  sources: Object.fromEntries(files.map((f) => [path.basename(f), { content: fs.readFileSync(f, 'utf8') }])),
  settings: {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['evm.deployedBytecode.object'] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}
const result = {};
for (const contracts of Object.values(out.contracts)) {
  for (const [name, c] of Object.entries(contracts)) result[name] = c.evm.deployedBytecode.object;
}
console.log(JSON.stringify(result));
