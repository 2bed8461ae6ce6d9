/**
 * The HTML report opened in a real browser (Debian's `chromium`, headless, driven by playwright-core): every chart
 * renders (its SVG marks have real boxes, and a screenshot of it shows the chart's colours), and the page makes no
 * request beyond its own file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLORS } from '../../src/cli/report/charts.js';
import { tempDir } from '../backends/fixtures/temp.js';
import { cli } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SAMPLE = fileURLToPath(new URL('../../examples/traces/support-agent.jsonl', import.meta.url));
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const available = existsSync(CHROMIUM);
if (!available) {
  const message = `HTML report: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n${'!'.repeat(100)}\n!!! SKIPPED ${message}\n${'!'.repeat(100)}\n`);
}

// The browser side of page.evaluate (the project's type check has no DOM library).
interface Canvas2d {
  drawImage(image: unknown, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
declare const Image: new () => { src: string; width: number; height: number; decode(): Promise<void> };
declare const document: {
  createElement(tag: 'canvas'): { width: number; height: number; getContext(kind: '2d'): Canvas2d | null };
};

/** Pixels of a PNG that are near each colour, and that are not the page background, counted in the browser. */
async function pixels(page: Page, png: Buffer, colors: Record<string, string>) {
  return page.evaluate(
    async ({ b64, colors }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, img.width, img.height).data;
      const targets = Object.entries(colors).map(([name, hex]) => {
        const v = Number.parseInt(hex.slice(1), 16);
        return { name, r: v >> 16, g: (v >> 8) & 255, b: v & 255 };
      });
      const counts: Record<string, number> = Object.fromEntries(targets.map((t) => [t.name, 0]));
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        if (r < 240 || g < 240 || b < 240) ink++;
        for (const t of targets) {
          if (Math.abs(r - t.r) + Math.abs(g - t.g) + Math.abs(b - t.b) < 40) counts[t.name]!++;
        }
      }
      return { total: data.length / 4, ink, counts };
    },
    { b64: png.toString('base64'), colors },
  );
}

describe.runIf(available)('the HTML report in headless Chromium', () => {
  const dir = tempDir();
  const html = join(dir, 'report.html');
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const blocked: string[] = [];

  beforeAll(async () => {
    const r = await cli(['report', SAMPLE, '--html', html]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${html}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 900, height: 1200 } });
    const own = pathToFileURL(html).href;
    // Anything but the page itself is recorded and refused: the report must not need it.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === own) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(own, { waitUntil: 'load' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('makes no request beyond its own file', () => {
    expect(requests).toEqual([pathToFileURL(html).href]);
    expect(blocked).toEqual([]);
  });

  it('is one file with nothing that could load anything', () => {
    const text = readFileSync(html, 'utf8');
    for (const pattern of [
      /<script/i,
      /<link/i,
      /<img/i,
      /<iframe/i,
      /<object/i,
      /\bsrc=/i,
      /url\(/i,
      /@import/i,
    ]) {
      expect(text).not.toMatch(pattern);
    }
  });

  const charts: [string, string, number, keyof typeof COLORS][] = [
    ['hit-rate', 'path.series', 2, 'hit'],
    ['saved', 'rect.bar.saved', 5, 'hit'],
    ['loops', 'path.loop', 4, 'loop'],
    ['invalidations', 'rect.bar.invalidated', 4, 'write'],
  ];
  for (const [chart, marks, count, colour] of charts) {
    it(`draws the ${chart} chart: marks with real boxes, and a screenshot that shows them`, async () => {
      const svg = page.locator(`svg[data-chart="${chart}"]`);
      const box = await svg.boundingBox();
      expect(box!.width).toBeGreaterThan(600);
      expect(box!.height).toBeGreaterThan(80);
      const sizes = await svg.evaluate(
        (el, selector) =>
          [...el.querySelectorAll(selector)].map((m) => {
            const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
            return [b.width, b.height];
          }),
        marks,
      );
      expect(sizes).toHaveLength(count);
      for (const [w, h] of sizes) expect(w! + h!).toBeGreaterThan(0);
      const shot = await svg.screenshot();
      const seen = await pixels(page, shot, { mark: chart === 'invalidations' ? '#8e5ec4' : COLORS[colour] });
      expect(seen.ink / seen.total).toBeGreaterThan(0.01);
      expect(seen.counts.mark).toBeGreaterThan(30);
    });
  }

  it('the loop chart puts every call of the trace in its session lane', async () => {
    const calls = await page.locator('svg[data-chart="loops"] rect.call').count();
    expect(calls).toBe(48);
    const labels = await page.locator('svg[data-chart="loops"] text.loop-label').allTextContents();
    expect(labels).toEqual([
      'repeat · getTicket (lines 22–23)',
      'retry_storm · lookupShipment (line 28)',
      'oscillation · searchKb (line 50)',
    ]);
  });

  it('the whole page is not blank', async () => {
    const shot = await page.screenshot({ fullPage: true, path: join(dir, 'report.png') });
    const seen = await pixels(page, shot, { hit: COLORS.hit, loop: COLORS.loop, write: COLORS.write });
    expect(seen.ink / seen.total).toBeGreaterThan(0.05);
    expect(seen.counts.hit).toBeGreaterThan(1_000);
    expect(seen.counts.loop).toBeGreaterThan(100);
    expect(seen.counts.write).toBeGreaterThan(50);
    expect(await page.locator('h1').textContent()).toBe('What caching saves on this run');
  });
});
