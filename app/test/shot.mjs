// Screenshot of the built dashboard (dist/) against a running localnet:
//   node test/shot.mjs OUT.png [query]
import { launchChromium, serveStatic } from './serve.mjs';

const [out = 'shot.png', query = ''] = process.argv.slice(2);
const server = await serveStatic(new URL('../dist/', import.meta.url));
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
page.on('console', (m) => console.log('console:', m.type(), m.text()));
await page.goto(`${server.url}/${query}`);
await page.waitForTimeout(Number(process.env.WAIT_MS ?? 6000));
await page.screenshot({ path: out, fullPage: true });
await browser.close();
server.close();
