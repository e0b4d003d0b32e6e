#!/usr/bin/env node
// coverage-render: open a `stetho coverage --format html` report in headless
// Chromium (Debian's chromium, driven by playwright-core) and check what a
// reader sees, not just the markup:
//   - the page loads with no console error and no failed request (the report
//     is self-contained);
//   - every technique of the Navigator layer given with --layer has a visible
//     heatmap cell under a visible tactic column, shaded green when a tested
//     rule covers it and amber when none does;
//   - the rules table shows every rule, and rows of rules without a positive
//     test or past their review date are highlighted;
//   - nothing overflows the page horizontally at a laptop width.
// Writes a full-page PNG with --screenshot FILE. Prints one line per check
// and "coverage render: N passed, M failed"; exit 0, 1 on a failed check,
// 2 on a usage or browser error.
'use strict';

const fs = require('fs');
const path = require('path');

const USAGE = 'usage: coverage-render.js --layer LAYER.json [--screenshot OUT.png] [--chromium PATH] REPORT.html';

function die(message) {
  process.stderr.write(`coverage-render: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { chromium: process.env.CHROMIUM || '/usr/bin/chromium', report: null, layer: null, screenshot: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) die(`${a} needs a value`); return argv[++i]; };
    if (a === '--layer') o.layer = next();
    else if (a === '--screenshot') o.screenshot = next();
    else if (a === '--chromium') o.chromium = next();
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE + '\n'); process.exit(0); }
    else if (a.startsWith('--')) die(`unknown option ${a}\n${USAGE}`);
    else o.report = a;
  }
  if (!o.report || !o.layer) die(USAGE);
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const layer = JSON.parse(fs.readFileSync(o.layer, 'utf8'));
  let chromium;
  try { ({ chromium } = require('playwright-core')); } catch (e) { die(`playwright-core is not installed: ${e.message}`); }
  if (!fs.existsSync(o.chromium)) die(`no Chromium at ${o.chromium} (Debian package chromium)`);
  const browser = await chromium.launch({
    executablePath: o.chromium,
    headless: true,
    // The flags keep Chromium from reaching for Google's services, which a
    // closed CI network refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const results = [];
  const check = (name, ok, detail) => results.push({ name, ok: Boolean(ok), detail: detail || '' });
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const errors = [];
    const requests = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    await page.goto('file://' + path.resolve(o.report), { waitUntil: 'load' });

    check('no console or page errors', errors.length === 0, errors.join('; '));
    check('no request leaves the file (self-contained)', requests.length === 0, requests.join(', '));

    const seen = await page.evaluate(() => {
      const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
      const cells = [...document.querySelectorAll('.tactic .cell')].map((el) => ({
        id: el.textContent.trim().split(/\s+/)[0],
        tested: !/^0 of /.test(el.getAttribute('title') || ''),
        background: getComputedStyle(el).backgroundColor,
        visible: visible(el),
      }));
      const tactics = [...document.querySelectorAll('.tactic')].map((el) => ({
        name: el.querySelector('h3') ? el.querySelector('h3').textContent : '',
        visible: visible(el),
      }));
      const tables = [...document.querySelectorAll('table')];
      const rules = tables.length ? [...tables[tables.length - 1].querySelectorAll('tr')].slice(1).map((tr) => ({
        attention: tr.classList.contains('attention'),
        background: getComputedStyle(tr).backgroundColor,
        untested: tr.children[2] && tr.children[2].textContent === 'no',
        overdue: tr.children[3] && tr.children[3].textContent === 'overdue',
        visible: visible(tr),
      })) : [];
      return { cells, tactics, rules, scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth };
    });

    const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
    const greenish = (c) => { const [r, g, b, a] = rgb(c); return g > r && g > b && (a === undefined || a > 0); };
    const amber = (c) => { const [r, g, b] = rgb(c); return r > 200 && g > 200 && b < 220 && r > b; };

    check('tactic columns are visible', seen.tactics.length > 0 && seen.tactics.every((t) => t.visible),
      `${seen.tactics.length} columns`);
    const techniques = (layer.techniques || []).map((t) => t.techniqueID);
    const shown = new Set(seen.cells.filter((c) => c.visible).map((c) => c.id));
    const missing = techniques.filter((t) => !shown.has(t));
    check('every technique of the layer has a visible cell', techniques.length > 0 && missing.length === 0,
      missing.length ? `missing: ${missing.join(', ')}` : `${techniques.length} techniques`);
    const scored = new Map((layer.techniques || []).map((t) => [t.techniqueID, t.score]));
    const wrongShade = seen.cells.filter((c) => (scored.get(c.id) > 0 ? !greenish(c.background) : !amber(c.background)));
    check('cells are green when tested, amber when not', wrongShade.length === 0,
      wrongShade.map((c) => `${c.id}: ${c.background}`).join(', '));
    check('the rules table lists rules', seen.rules.length > 0 && seen.rules.every((r) => r.visible), `${seen.rules.length} rows`);
    const wrongRows = seen.rules.filter((r) => (r.untested || r.overdue) !== r.attention
      || (r.attention && !(rgb(r.background)[0] > rgb(r.background)[2])));
    check('rules without tests or past review are highlighted', wrongRows.length === 0,
      `${seen.rules.filter((r) => r.attention).length} highlighted${wrongRows.length ? '; wrong: ' + JSON.stringify(wrongRows.slice(0, 2)) : ''}`);
    check('no horizontal overflow at 1366 px', seen.scrollWidth <= seen.width, `${seen.scrollWidth} px wide`);

    if (o.screenshot) {
      fs.mkdirSync(path.dirname(path.resolve(o.screenshot)), { recursive: true });
      await page.screenshot({ path: o.screenshot, fullPage: true });
      const size = fs.statSync(o.screenshot).size;
      check('screenshot written', size > 10000, `${o.screenshot} (${size} bytes)`);
    }
  } finally {
    await browser.close();
  }
  let failed = 0;
  for (const r of results) {
    if (!r.ok) failed++;
    process.stdout.write(`${r.ok ? 'PASS' : 'FAIL'} ${r.name}${r.detail ? ` (${r.detail})` : ''}\n`);
  }
  process.stdout.write(`coverage render: ${results.length - failed} passed, ${failed} failed\n`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
