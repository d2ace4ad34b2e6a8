// What the browser scripts (e2e, bench, screenshot) share: a static file server for the
// production build (what "served by anything" means in the tests), a fresh build of it,
// and Debian's Chromium with the flags it needs on these machines.
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { build } from 'vite';

import { ensureClient } from '../scripts/client.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Serves `root` (a file: URL of a directory) on an ephemeral loopback port. */
export function serveStatic(root) {
  const base = fileURLToPath(root);
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const file = path === '/' ? 'index.html' : path.slice(1);
    if (file.includes('..')) {
      res.writeHead(400).end();
      return;
    }
    try {
      const body = await readFile(base + file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    });
  });
}

/** Debian's Chromium (never a downloaded browser), headless. */
export function launchChromium() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * The same build `npm run build` makes, into a scratch directory, served on loopback.
 * `close()` stops the server and removes the build.
 */
export async function buildAndServe() {
  ensureClient();
  const appDir = fileURLToPath(new URL('..', import.meta.url));
  const outDir = await mkdtemp(join(tmpdir(), 'lifeline-dashboard-'));
  try {
    await build({ root: appDir, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    const server = await serveStatic(new URL(`file://${outDir}/`));
    return {
      url: server.url,
      close: async () => {
        server.close();
        await rm(outDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(outDir, { recursive: true, force: true });
    throw e;
  }
}
