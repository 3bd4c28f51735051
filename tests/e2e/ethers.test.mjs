// End-to-end test of a node with ethers v6, run by node's built-in test runner:
//
//   RPC_URL=http://127.0.0.1:8545 node --test tests/e2e/
//
// Deploys contracts/out/VeraiToken.json with dev account 0, moves tokens and
// ether, and checks balances, receipts, events, logs and revert decoding.
// Works against any dev chain funded from the standard test mnemonic
// (`verai node --dev`, anvil). EXPECTED_CHAIN_ID overrides the chain id (1337).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ethers } from 'ethers';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifactPath = path.resolve(here, '../../contracts/out/VeraiToken.json');

const RPC_URL = process.env.RPC_URL;
const EXPECTED_CHAIN_ID = BigInt(process.env.EXPECTED_CHAIN_ID ?? '1337');
// Dev accounts 0 and 1 of "test test ... junk" (public, test-only keys).
const KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const ADDR0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const ADDR1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const TX_TIMEOUT_MS = 30_000;

let provider, wallet0, wallet1, artifact, token, tokenAddress;
const SUPPLY = ethers.parseUnits('1000000', 18);

async function mined(txPromise) {
  const tx = await txPromise;
  const receipt = await tx.wait(1, TX_TIMEOUT_MS);
  assert.ok(receipt, `no receipt for ${tx.hash}`);
  assert.equal(receipt.status, 1, `transaction ${tx.hash} failed`);
  return receipt;
}

before(async () => {
  assert.ok(RPC_URL, 'RPC_URL is not set: run as RPC_URL=http://127.0.0.1:8545 node --test tests/e2e/');
  assert.ok(fs.existsSync(artifactPath), `${artifactPath} is missing: run node tests/e2e/compile.mjs`);
  artifact = JSON.parse(fs.readFileSync(artifactPath, 'utf8'));
  // Poll quickly (dev chains mine at once), and turn off ethers' 250 ms cache
  // of identical requests: otherwise a balance or a 'pending' nonce read
  // right after a transaction can be a stale cached answer.
  provider = new ethers.JsonRpcProvider(RPC_URL, undefined, { pollingInterval: 200, cacheTimeout: -1 });
  provider.pollingInterval = 200;
  wallet0 = new ethers.Wallet(KEY0, provider);
  wallet1 = new ethers.Wallet(KEY1, provider);
  assert.equal(wallet0.address, ADDR0);
  assert.equal(wallet1.address, ADDR1);
});

test('network: chain id and funded dev accounts', async () => {
  const net = await provider.getNetwork();
  assert.equal(net.chainId, EXPECTED_CHAIN_ID);
  const block = await provider.getBlock('latest');
  assert.ok(block, 'latest block');
  assert.ok(block.number >= 0);
  const bal = await provider.getBalance(ADDR1);
  assert.ok(bal > ethers.parseEther('1000'), `account 1 is funded (got ${bal})`);
});

test('ether transfer to a fresh address', async () => {
  const to = ethers.Wallet.createRandom().address;
  const value = ethers.parseEther('1.25');
  const before0 = await provider.getBalance(ADDR0);
  const receipt = await mined(wallet0.sendTransaction({ to, value }));
  assert.equal(await provider.getBalance(to), value);
  const after0 = await provider.getBalance(ADDR0);
  const fee = receipt.gasUsed * receipt.gasPrice;
  assert.equal(receipt.gasUsed, 21000n);
  assert.equal(before0 - after0, value + fee, 'sender pays value + gasUsed * effectiveGasPrice');
  const tx = await provider.getTransaction(receipt.hash);
  assert.equal(tx.to, to);
  assert.equal(tx.value, value);
  assert.equal(tx.blockNumber, receipt.blockNumber);
});

test('deploy VeraiToken', async () => {
  const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet0);
  const c = await factory.deploy('Verai Token', 'VRT', SUPPLY);
  const receipt = await c.deploymentTransaction().wait(1, TX_TIMEOUT_MS);
  assert.equal(receipt.status, 1);
  tokenAddress = await c.getAddress();
  assert.equal(receipt.contractAddress, tokenAddress);
  token = new ethers.Contract(tokenAddress, artifact.abi, wallet0);
  const code = await provider.getCode(tokenAddress);
  assert.equal(code, artifact.deployedBytecode);
  assert.equal(await token.name(), 'Verai Token');
  assert.equal(await token.symbol(), 'VRT');
  assert.equal(await token.decimals(), 18n);
  assert.equal(await token.totalSupply(), SUPPLY);
  assert.equal(await token.balanceOf(ADDR0), SUPPLY);
  // The mint is a Transfer from the zero address in the deployment receipt.
  const ev = receipt.logs.map((l) => token.interface.parseLog(l)).find((p) => p?.name === 'Transfer');
  assert.ok(ev, 'mint Transfer event');
  assert.equal(ev.args.from, ethers.ZeroAddress);
  assert.equal(ev.args.to, ADDR0);
  assert.equal(ev.args.value, SUPPLY);
});

test('token transfer to account 1 emits Transfer', async () => {
  assert.ok(token, 'token deployed');
  const amount = ethers.parseUnits('1234.5', 18);
  const before1 = await token.balanceOf(ADDR1);
  const receipt = await mined(token.transfer(ADDR1, amount));
  assert.equal(await token.balanceOf(ADDR1), before1 + amount);
  assert.equal(await token.balanceOf(ADDR0), SUPPLY - amount);

  assert.equal(receipt.logs.length, 1);
  const log = receipt.logs[0];
  assert.equal(log.address, tokenAddress);
  assert.equal(log.topics[0], ethers.id('Transfer(address,address,uint256)'));
  const parsed = token.interface.parseLog(log);
  assert.equal(parsed.name, 'Transfer');
  assert.equal(parsed.args.from, ADDR0);
  assert.equal(parsed.args.to, ADDR1);
  assert.equal(parsed.args.value, amount);

  // The same event through eth_getLogs, filtered by address and topics.
  const events = await token.queryFilter(token.filters.Transfer(ADDR0, ADDR1), receipt.blockNumber, receipt.blockNumber);
  assert.equal(events.length, 1);
  assert.equal(events[0].transactionHash, receipt.hash);
  assert.equal(events[0].args.value, amount);
});

test('approve and transferFrom by account 1', async () => {
  assert.ok(token, 'token deployed');
  const allowance = ethers.parseUnits('50', 18);
  const spend = ethers.parseUnits('20', 18);
  const r1 = await mined(token.approve(ADDR1, allowance));
  const approval = token.interface.parseLog(r1.logs[0]);
  assert.equal(approval.name, 'Approval');
  assert.equal(approval.args.owner, ADDR0);
  assert.equal(approval.args.spender, ADDR1);
  assert.equal(await token.allowance(ADDR0, ADDR1), allowance);

  const dest = ethers.Wallet.createRandom().address;
  const asSpender = token.connect(wallet1);
  await mined(asSpender.transferFrom(ADDR0, dest, spend));
  assert.equal(await token.balanceOf(dest), spend);
  assert.equal(await token.allowance(ADDR0, ADDR1), allowance - spend);
});

test('a failing call reverts with decodable custom error data', async () => {
  assert.ok(token, 'token deployed');
  const poor = ethers.Wallet.createRandom().connect(provider);
  const asPoor = token.connect(poor);
  // eth_call / eth_estimateGas must return the revert data (EIP-1474 code 3 style).
  await assert.rejects(asPoor.transfer.staticCall(ADDR0, 1n), (err) => {
    assert.equal(err.code, 'CALL_EXCEPTION', `got ${err.code}: ${err.message}`);
    assert.equal(err.revert?.name, 'InsufficientBalance', `revert decoded: ${err.shortMessage}`);
    assert.equal(err.revert.args[0], poor.address);
    return true;
  });
  // A send that would revert fails at eth_estimateGas; ethers leaves the raw
  // revert data in err.data (the node's error must carry it in error.data).
  await assert.rejects(token.transferFrom(ADDR1, ADDR0, 1n), (err) => {
    assert.equal(err.code, 'CALL_EXCEPTION', `got ${err.code}: ${err.message}`);
    const decoded = token.interface.parseError(err.data);
    assert.equal(decoded?.name, 'InsufficientAllowance', `revert data ${err.data}`);
    assert.equal(decoded.args[0], ADDR1);
    assert.equal(decoded.args[1], ADDR0);
    assert.equal(decoded.args[3], 1n);
    return true;
  });
});
