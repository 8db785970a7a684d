// Renders the app's dashboards in headless Chromium with recorded results, and reports what drew.
//
//   node scripts/render.mjs --views DIR --recorded DIR --out DIR [--report FILE] [--dist DIR]
//
// Serves the built preview page (dist/, `vite build`), each view's definition (taken from the
// <definition> CDATA of VIEWS/<name>.xml, exactly what the app ships) and the recorded results
// (RECORDED/<name>.json: the dashboards' searches executed over the replay, tests/dashboards/
// recording.py) from 127.0.0.1, opens every dashboard in Debian's chromium driven by
// playwright-core, and writes OUT/<name>.png (the whole layout).
// The browser may reach nothing but that server: any other request is aborted and reported, and
// any request to a splunkd path (/services, /servicesNS, /splunkd) is reported even if local.
// The report (JSON) lists, per dashboard and panel, whether it drew (an <svg>, <canvas> or
// <table> in the panel; the major value of a single value; text for markdown; never a panel that
// says "No data!"), the console errors, page errors and requests.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const SPLUNKD_PATH = /\/(services|servicesNS|splunkd)(\/|$)/;
const CONTENT_TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.woff': 'font/woff',
    '.woff2': 'font/woff2',
};
// Generous: CI machines are shared, and a slow first parse of the bundle is not a failure.
const PAGE_TIMEOUT_MS = 120000;
const PANEL_TIMEOUT_MS = 45000;
const SETTLE_MS = 1500;

function parseArgs(argv) {
    const args = { dist: 'dist', report: null, names: null };
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, '');
        args[key] = argv[i + 1];
    }
    for (const required of ['views', 'recorded', 'out']) {
        if (!args[required]) {
            throw new Error(`--${required} is required`);
        }
    }
    return args;
}

function definitionOf(viewPath) {
    const text = fs.readFileSync(viewPath, 'utf8');
    const match = /<definition>\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*<\/definition>/.exec(text);
    if (!match) {
        throw new Error(`${viewPath}: no <definition><![CDATA[...]]></definition>`);
    }
    return JSON.parse(match[1]);
}

function chromiumPath() {
    const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
    const found = candidates.find((candidate) => candidate && fs.existsSync(candidate));
    if (!found) {
        throw new Error('no chromium found (install Debian chromium, or set CHROMIUM)');
    }
    return found;
}

// A static server for the page, the definitions and the recorded results; it logs what it served.
function startServer(args, definitions) {
    const served = [];
    const server = http.createServer((request, response) => {
        const url = new URL(request.url, 'http://127.0.0.1');
        served.push(url.pathname);
        let body = null;
        let type = 'application/octet-stream';
        const definition = /^\/definitions\/([\w-]+)\.json$/.exec(url.pathname);
        const recorded = /^\/recorded\/([\w-]+)\.json$/.exec(url.pathname);
        if (definition && definitions[definition[1]]) {
            body = JSON.stringify(definitions[definition[1]]);
            type = CONTENT_TYPES['.json'];
        } else if (recorded) {
            const file = path.join(args.recorded, `${recorded[1]}.json`);
            if (fs.existsSync(file)) {
                body = fs.readFileSync(file);
                type = CONTENT_TYPES['.json'];
            }
        } else {
            const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
            const file = path.resolve(args.dist, relative);
            if (file.startsWith(path.resolve(args.dist)) && fs.existsSync(file) && fs.statSync(file).isFile()) {
                body = fs.readFileSync(file);
                type = CONTENT_TYPES[path.extname(file)] || type;
            }
        }
        if (body === null) {
            response.writeHead(404, { 'content-type': 'text/plain' });
            response.end('not found');
            return;
        }
        response.writeHead(200, { 'content-type': type });
        response.end(body);
    });
    return new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => resolve({ server, served, origin: `http://127.0.0.1:${server.address().port}` }));
    });
}

// In the page: for each visualization id, what its panel holds.
function inspectPanels(vizIds) {
    const out = {};
    for (const id of vizIds) {
        const panel = document.querySelector(`[data-test="viz-item"][data-id="${CSS.escape(id)}"]`);
        if (!panel) {
            out[id] = { found: false, svg: false, canvas: false, table: false, majorValue: '', text: '' };
            continue;
        }
        const rect = panel.getBoundingClientRect();
        out[id] = {
            found: true,
            svg: Boolean(panel.querySelector('svg')),
            canvas: Boolean(panel.querySelector('canvas')),
            table: Boolean(panel.querySelector('table')),
            rows: panel.querySelectorAll('tbody tr').length,
            majorValue: ((panel.querySelector('[data-test="majorValue"]') || {}).textContent || '').trim(),
            text: (panel.innerText || '').slice(0, 400),
            box: { x: rect.x, y: rect.y, width: rect.width, height: rect.height },
        };
    }
    return out;
}

// Panel text that means the visualization did not draw its data.
const NOT_DRAWN = /(No results found|No data!|Waiting for data|Waiting for input|no recorded result|Search is waiting|Error in|Invalid)/i;

// Panel text that waiting does not change: an error, or a recorded result without rows.
const FAILED = /(no recorded result|Error in)/i;
const EMPTY = /No data!/;

function drew(type, panel) {
    if (!panel.found || NOT_DRAWN.test(panel.text)) {
        return false;
    }
    if (type === 'splunk.markdown') {
        return panel.text.trim().length > 0;
    }
    if (type === 'splunk.singlevalue') {
        // A single value is drawn as HTML text, not SVG: its major value must be there.
        return panel.majorValue.length > 0;
    }
    if (type === 'splunk.table') {
        return panel.table && panel.rows > 0;
    }
    return panel.svg || panel.canvas || panel.table;
}

async function renderOne(browser, origin, name, definition, args) {
    const layout = Object.values(definition.layout.layoutDefinitions)[0];
    const width = (layout.options && layout.options.width) || 1440;
    const height = Math.max(...layout.structure.map((item) => item.position.y + item.position.h));
    // Room for the inputs bar above the layout, so the whole canvas shows without scrolling.
    const context = await browser.newContext({ viewport: { width: width + 40, height: height + 110 } });
    const page = await context.newPage();
    const result = { consoleErrors: [], pageErrors: [], blockedRequests: [], splunkdRequests: [], panels: {} };

    await page.route('**/*', (route) => {
        const url = route.request().url();
        if (SPLUNKD_PATH.test(new URL(url).pathname)) {
            result.splunkdRequests.push(url);
        }
        if (url.startsWith(origin + '/') || url.startsWith('data:') || url.startsWith('blob:')) {
            return route.continue();
        }
        result.blockedRequests.push(url);
        return route.abort();
    });
    page.on('console', (message) => {
        if (message.type() === 'error') {
            result.consoleErrors.push(message.text());
        }
    });
    page.on('pageerror', (error) => result.pageErrors.push(String(error && error.stack ? error.stack : error)));

    await page.goto(`${origin}/index.html?dashboard=${encodeURIComponent(name)}`, { waitUntil: 'load', timeout: PAGE_TIMEOUT_MS });
    await page.waitForSelector('body[data-preview-state]', { timeout: PAGE_TIMEOUT_MS });
    result.previewState = await page.evaluate(() => window.__preview);

    const vizIds = Object.keys(definition.visualizations);
    const types = Object.fromEntries(vizIds.map((id) => [id, definition.visualizations[id].type]));
    const deadline = Date.now() + PANEL_TIMEOUT_MS;
    let panels = {};
    for (;;) {
        panels = await page.evaluate(inspectPanels, vizIds);
        // Stop once every panel drew, shows an error or says it has no data (neither goes away by waiting).
        const settled = (id) => drew(types[id], panels[id]) || FAILED.test(panels[id].text || '') || EMPTY.test(panels[id].text || '');
        if (vizIds.every(settled) || Date.now() > deadline) {
            break;
        }
        await page.waitForTimeout(250);
    }
    // Let animations and late layout passes finish before the screenshot.
    await page.waitForTimeout(SETTLE_MS);
    panels = await page.evaluate(inspectPanels, vizIds);
    for (const id of vizIds) {
        result.panels[id] = { type: types[id], drew: drew(types[id], panels[id]), ...panels[id] };
    }
    result.screenshot = path.resolve(args.out, `${name}.png`);
    await page.screenshot({ path: result.screenshot, fullPage: true });
    await context.close();
    return result;
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    fs.mkdirSync(args.out, { recursive: true });
    const names = fs
        .readdirSync(args.views)
        .filter((file) => file.endsWith('.xml'))
        .map((file) => file.slice(0, -4))
        .filter((name) => fs.existsSync(path.join(args.recorded, `${name}.json`)))
        .filter((name) => !args.names || args.names.split(',').includes(name))
        .sort();
    if (!names.length) {
        throw new Error(`no view in ${args.views} has recorded results in ${args.recorded}`);
    }
    const definitions = Object.fromEntries(names.map((name) => [name, definitionOf(path.join(args.views, `${name}.xml`))]));
    const { server, served, origin } = await startServer(args, definitions);
    const browser = await chromium.launch({
        executablePath: chromiumPath(),
        args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
        ],
    });
    const report = { origin, dashboards: {} };
    try {
        for (const name of names) {
            const started = Date.now();
            report.dashboards[name] = await renderOne(browser, origin, name, definitions[name], args);
            report.dashboards[name].seconds = (Date.now() - started) / 1000;
            const bad = Object.entries(report.dashboards[name].panels).filter(([, p]) => !p.drew).map(([id]) => id);
            console.error(`render: ${name}: ${report.dashboards[name].seconds}s${bad.length ? `, not drawn: ${bad.join(' ')}` : ''}`);
        }
    } finally {
        await browser.close();
        server.close();
    }
    report.served = served;
    const text = JSON.stringify(report, null, 1) + '\n';
    if (args.report) {
        fs.writeFileSync(args.report, text);
    } else {
        process.stdout.write(text);
    }
}

main().catch((error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(2);
});
