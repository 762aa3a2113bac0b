// Browser test of the web console: the real kefud and kefuctl, Debian's chromium driven by
// playwright-core. Run by ctest (tests/e2e/CMakeLists.txt) as
//   node console.test.mjs KEFUD KEFUCTL
// It signs in as an agent, finds a ticket whose subject and first message are hostile HTML,
// checks they are shown as text (no element injected, no script run), replies, assigns the ticket
// to itself, signs out; then a supervisor sees the monitor page. Exits non-zero on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [kefud, kefuctl] = process.argv.slice(2);
if (!kefud || !kefuctl) {
  console.error('usage: node console.test.mjs KEFUD KEFUCTL');
  process.exit(2);
}
const CHROMIUM = process.env.KEFU_CHROMIUM || '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror="window.__pwned=1">退款<script>window.__pwned=2</script>';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function run(args, input) {
  const r = spawnSync(kefuctl, args, { input, encoding: 'utf8' });
  assert.equal(r.status, 0, `kefuctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function waitHealthy(base, child) {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kefud exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch (_) {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('kefud did not become healthy');
}

const dir = mkdtempSync(join(tmpdir(), 'kefu-e2e-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const config = join(dir, 'kefud.toml');
// One WeCom app whose API is unreachable: replies wait in the outbox, which is all this test needs.
writeFileSync(config, `[server]\nlisten = "127.0.0.1:${port}"\n[storage]\ndata_dir = "${join(dir, 'data')}"\n` +
  '[[wecom.apps]]\nname = "shop"\ncorp_id = "wwe2e0000000000"\nagent_id = 1000002\ntoken = "e2e-token"\n' +
  'encoding_aes_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"\nsecret = "e2e-secret"\n' +
  'api_base = "http://127.0.0.1:9"\n');
const cfg = ['--config', config];

run([...cfg, 'user', 'add', 'agent1', '--role', 'agent', '--display-name', '客服小王', '--password-file', '-'], 'agent-password\n');
run([...cfg, 'user', 'add', 'boss', '--role', 'supervisor', '--display-name', '值班主管', '--password-file', '-'], 'boss-password\n');
const apiToken = run([...cfg, 'token', 'create', '--role', 'admin', '--name', 'e2e']).trim().split('\n').pop();

const daemon = spawn(kefud, cfg, { stdio: ['ignore', 'ignore', 'pipe'] });
let daemonErr = '';
daemon.stderr.on('data', (chunk) => { daemonErr += chunk; });
let browser;
let failed = false;
try {
  await waitHealthy(base, daemon);
  // The customer writes hostile HTML in WeCom, then asks for a human: the hand-off opens a ticket.
  for (const text of [HOSTILE, '转人工']) {
    run([...cfg, 'simulate', 'wecom', '--url', `${base}/callback/wecom/shop`, '--app', 'shop', '--from', 'zhangsan', '--text', text]);
  }
  const auth = { headers: { Authorization: `Bearer ${apiToken}` } };
  let ticket;
  for (let i = 0; i < 100 && !ticket; ++i) {
    ticket = (await (await fetch(`${base}/api/v1/tickets`, auth)).json()).tickets[0];
    if (!ticket) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(ticket, 'the hand-off opened a ticket');

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-quic', '--no-first-run', '--disable-sync'],
  });
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // Chromium logs every non-2xx fetch; the wrong-password login below is a deliberate 401.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('status of 401')) pageErrors.push(m.text());
  });
  page.on('dialog', (d) => { pageErrors.push(`unexpected dialog: ${d.message()}`); d.dismiss(); });

  // Wrong password, then the right one.
  await page.goto(`${base}/`);
  await page.fill('input[name=username]', 'agent1');
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('button[type=submit]');
  await page.getByText('用户名或密码错误').waitFor();
  await page.fill('input[name=password]', 'agent-password');
  await page.click('button[type=submit]');
  await page.getByText('客服小王（客服）').waitFor();
  assert.equal(await page.locator('button.tab', { hasText: '监控' }).count(), 0, 'agents have no monitor tab');

  // The ticket list shows the hostile subject as literal text.
  await page.click('button.tab:has-text("工单")');
  const row = page.locator('tbody tr', { hasText: `#${ticket.id}` });
  await row.waitFor();
  assert.ok((await row.locator('td.subject').textContent()).length > 0, JSON.stringify(ticket));
  await row.click();
  await page.getByText(`工单 #${ticket.id}`).waitFor();
  assert.equal(await page.locator('main img').count(), 0, 'no element was injected');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no script ran');
  await page.locator('.timeline .body', { hasText: 'onerror' }).first().waitFor();

  // The conversation view shows the customer's message verbatim, as text.
  await page.click(`button:has-text("会话 #${ticket.conversation_id}")`);
  const customerMessage = page.locator('.message.customer .body', { hasText: 'onerror' });
  await customerMessage.waitFor();
  assert.equal(await customerMessage.textContent(), HOSTILE);
  assert.equal(await page.locator('main img, main script').count(), 0, 'no element was injected');
  await page.click(`button:has-text("工单 #${ticket.id}")`);
  await page.getByText(`工单 #${ticket.id}`).first().waitFor();

  // Assign to me and reply publicly.
  await page.click('button:has-text("分配给我")');
  await page.getByText('已更新').waitFor();
  // The panel redraws once the update is stored: the button goes away when the ticket is ours.
  await page.locator('button:has-text("分配给我")').waitFor({ state: 'detached' });
  await page.fill('.composer textarea', '您好，退款已受理，1-3 个工作日到账。');
  await page.click('button:has-text("公开回复")');
  await page.locator('#flash.info', { hasText: '回复已进入发送队列' }).waitFor({ timeout: 10000 })
    .catch(async (e) => { throw new Error(`${e.message}; flash: ${await page.locator('#flash').textContent()}`); });
  const after = await (await fetch(`${base}/api/v1/tickets/${ticket.id}`, auth)).json();
  assert.equal(after.assignee, 'agent1');
  const reply = after.timeline.find((e) => e.kind === 'agent_reply');
  assert.ok(reply, JSON.stringify(after.timeline));
  assert.equal(reply.body, '您好，退款已受理，1-3 个工作日到账。');
  assert.equal(reply.actor.id, 'user:agent1');

  // Logout ends the session server-side.
  const token = await page.evaluate(() => sessionStorage.getItem('kefu.session'));
  await page.click('button:has-text("退出")');
  await page.locator('form.login').waitFor();
  const whoami = await fetch(`${base}/api/v1/whoami`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(whoami.status, 401);

  // A supervisor sees the monitor.
  await page.fill('input[name=username]', 'boss');
  await page.fill('input[name=password]', 'boss-password');
  await page.click('button[type=submit]');
  await page.click('button.tab:has-text("监控")');
  await page.getByText('SLA 达成率').waitFor();
  await page.getByText('排队中会话').waitFor();

  assert.deepEqual(pageErrors, [], 'no errors in the page');
  console.log('console e2e: ok');
} catch (e) {
  failed = true;
  console.error('console e2e failed:', e);
  console.error('kefud stderr (tail):', daemonErr.slice(-2000));
} finally {
  if (browser) await browser.close();
  daemon.kill('SIGTERM');
  await new Promise((resolve) => daemon.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
