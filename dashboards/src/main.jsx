// Offline preview of one Dashboard Studio definition, drawn by Splunk's own DashboardCore with the
// view-only Enterprise preset. Every search data source is served from recorded results (one entry
// per data-source id, made by tests/dashboards/recording.py: each search executed offline over
// the replay), so the page never calls splunkd.
//
// URL: index.html?dashboard=<name>[&theme=light|dark][&token.<name>=<value>...]
// The definition and recorded results are fetched from definitions/<name>.json and
// recorded/<name>.json beside the page (scripts/render.mjs serves them).
import React from 'react';
import { createRoot } from 'react-dom/client';
import * as CoreModule from '@splunk/dashboard-core';
import * as ContextModule from '@splunk/dashboard-context';
import * as EnterpriseModule from '@splunk/dashboard-presets/EnterpriseViewOnlyPreset';
import * as CloudModule from '@splunk/dashboard-presets/CloudViewOnlyPreset';
import * as SnapshotModule from '@splunk/datasources/SnapshotDataSource';
import * as ThemeModule from '@splunk/themes/SplunkThemeProvider';

// Some CommonJS packages arrive as {default: ...} or as the module namespace: take the value.
const unwrap = (mod) => (mod && mod.default && mod.default.default ? mod.default.default : mod.default || mod);

const DashboardCore = unwrap(CoreModule);
const { DashboardContextProvider } = ContextModule;
const EnterpriseViewOnlyPreset = unwrap(EnterpriseModule);
const CloudViewOnlyPreset = unwrap(CloudModule);
const SnapshotDataSource = unwrap(SnapshotModule);
const SplunkThemeProvider = unwrap(ThemeModule);

const params = new URLSearchParams(window.location.search);
const name = params.get('dashboard');
const theme = params.get('theme') === 'dark' ? 'dark' : 'light';

function report(state, detail) {
    window.__preview = { state, detail };
    document.body.setAttribute('data-preview-state', state);
}

async function fetchJson(path) {
    const response = await fetch(path);
    if (!response.ok) {
        throw new Error(`${path}: HTTP ${response.status}`);
    }
    return response.json();
}

async function main() {
    if (!name) {
        throw new Error('no ?dashboard= in the URL');
    }
    const [definition, recorded] = await Promise.all([
        fetchJson(`definitions/${name}.json`),
        fetchJson(`recorded/${name}.json`),
    ]);

    // A search data source answers with its recorded result, found by its data-source id (the
    // preset passes it in the context). A missing entry is an error the panel shows, so the
    // browser test notices it instead of drawing an empty panel.
    class RecordedDataSource extends SnapshotDataSource {
        constructor(options, context) {
            const id = context && context.id;
            const entry = recorded.results[id];
            super(
                entry
                    ? {
                          data: { fields: entry.fields.map((f) => ({ name: f })), columns: entry.columns },
                          // A finished search: no progress indicator on the panel.
                          meta: { status: 'done', percentComplete: 100, isRealTimeSearch: false },
                      }
                    : { errorLevel: 'error', error: `no recorded result for data source ${id}` },
                context
            );
        }
    }

    const preset = {
        ...EnterpriseViewOnlyPreset,
        dataSources: {
            ...EnterpriseViewOnlyPreset.dataSources,
            'ds.search': RecordedDataSource,
            'ds.savedSearch': RecordedDataSource,
            'ds.chain': RecordedDataSource,
        },
        // The Enterprise time range input asks splunkd for its presets; the Cloud one does not.
        inputs: {
            ...EnterpriseViewOnlyPreset.inputs,
            'input.timerange': CloudViewOnlyPreset.inputs['input.timerange'],
        },
    };

    // The recording's tokens (the finding the Finding dashboard opens on), then the URL's.
    const tokens = { ...(recorded.tokens || {}) };
    for (const [key, value] of params.entries()) {
        if (key.startsWith('token.')) {
            tokens[key.slice('token.'.length)] = value;
        }
    }

    const root = createRoot(document.getElementById('root'));
    root.render(
        <SplunkThemeProvider family="prisma" colorScheme={theme} density="compact">
            <DashboardContextProvider
                preset={preset}
                initialDefinition={definition}
                initialTokenBinding={{ default: tokens }}
                timezone={{ ianaTimezone: 'UTC' }}
            >
                <DashboardCore width="100%" height="100%" />
            </DashboardContextProvider>
        </SplunkThemeProvider>
    );
    report('rendered', Object.keys(definition.visualizations || {}));
}

main().catch((error) => {
    report('error', String(error && error.stack ? error.stack : error));
    console.error(error);
});
