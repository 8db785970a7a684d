// Validates Dashboard Studio definitions with Splunk's own schema: DashboardValidator from
// @splunk/dashboard-validation over createSchemaBasedOnPresets(EnterprisePreset) from
// @splunk/dashboard-definition (per-visualization, per-input and per-data-source options).
// The schema lets unknown option names through, so this also reports every visualization option
// that the schema of its type does not declare (a typo would otherwise be silently ignored).
//
// Usage: node scripts/validate.cjs VIEW.xml|DEFINITION.json...
// Prints one JSON object {path: {errors: [...], unknownOptions: [...]}} and exits 1 when any
// definition has a problem, 2 when it could not run.
'use strict';

const fs = require('fs');
const { JSDOM } = require('jsdom');

// The preset modules touch browser globals when they load (charts measure the screen, the code
// editor registers with ace): give them a jsdom window and a few stand-ins.
function installBrowserShims() {
    const dom = new JSDOM('<!doctype html><html><body></body></html>', {
        url: 'http://localhost/',
        pretendToBeVisual: true,
    });
    const win = dom.window;
    const media = () => ({
        matches: false,
        addListener() {},
        removeListener() {},
        addEventListener() {},
        removeEventListener() {},
    });
    win.matchMedia = media;
    win.devicePixelRatio = 1;
    win.ace = { define() {}, require() {}, config: { set() {}, setModuleUrl() {} } };
    win.URL.createObjectURL = () => 'blob:stand-in';
    Object.assign(global, {
        window: win,
        document: win.document,
        navigator: win.navigator,
        HTMLElement: win.HTMLElement,
        Element: win.Element,
        Node: win.Node,
        Event: win.Event,
        CustomEvent: win.CustomEvent,
        getComputedStyle: win.getComputedStyle,
        matchMedia: media,
        devicePixelRatio: 1,
        requestAnimationFrame: (callback) => setTimeout(callback, 0),
        cancelAnimationFrame: (handle) => clearTimeout(handle),
    });
    require.extensions['.css'] = () => {};
}

function definitionOf(path) {
    const text = fs.readFileSync(path, 'utf8');
    if (!path.endsWith('.xml')) {
        return JSON.parse(text);
    }
    const match = /<definition>\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*<\/definition>/.exec(text);
    if (!match) {
        throw new Error('no <definition><![CDATA[...]]></definition> in the view');
    }
    return JSON.parse(match[1]);
}

// {visualization type: Set of option names} from the schema's if/then branches.
function declaredOptions(schema) {
    const byType = {};
    const branches = Object.values(schema.properties.visualizations.patternProperties)[0].allOf;
    for (const branch of branches) {
        const typeRule = branch.if && branch.if.properties && branch.if.properties.type;
        const options = branch.then && branch.then.properties && branch.then.properties.options;
        if (!typeRule || !options || !options.properties) {
            continue;
        }
        const types = typeRule.const ? [typeRule.const] : typeRule.enum || [];
        for (const type of types) {
            byType[type] = new Set(Object.keys(options.properties));
        }
    }
    return byType;
}

function main(paths) {
    installBrowserShims();
    const { createSchemaBasedOnPresets } = require('@splunk/dashboard-definition');
    const presetModule = require('@splunk/dashboard-presets/EnterprisePreset');
    const { DashboardValidator } = require('@splunk/dashboard-validation');
    const schema = createSchemaBasedOnPresets(presetModule.default || presetModule);
    const validator = new DashboardValidator();
    const schemaError = validator.setSchema(schema);
    if (schemaError) {
        throw schemaError;
    }
    const options = declaredOptions(schema);
    const report = {};
    let bad = false;
    for (const path of paths) {
        const entry = { errors: [], unknownOptions: [] };
        try {
            const definition = definitionOf(path);
            entry.errors = validator.validate(definition) || [];
            for (const [id, viz] of Object.entries(definition.visualizations || {})) {
                const known = options[viz.type];
                if (!known) {
                    entry.unknownOptions.push(`${id}: type ${viz.type} has no options schema`);
                    continue;
                }
                for (const name of Object.keys(viz.options || {})) {
                    if (!known.has(name)) {
                        entry.unknownOptions.push(`${id}: ${viz.type} has no option ${name}`);
                    }
                }
            }
        } catch (error) {
            entry.errors.push({ message: String(error && error.message ? error.message : error) });
        }
        bad = bad || entry.errors.length > 0 || entry.unknownOptions.length > 0;
        report[path] = entry;
    }
    process.stdout.write(JSON.stringify(report, null, 1) + '\n');
    return bad ? 1 : 0;
}

try {
    // Exit explicitly: the preset modules leave timers behind.
    process.exit(main(process.argv.slice(2)));
} catch (error) {
    console.error(error && error.stack ? error.stack : error);
    process.exit(2);
}
