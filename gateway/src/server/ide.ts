import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

// GraphiQL and React come from node_modules, never a CDN: users may be offline.
// Files are found from each package's package.json, since `exports` maps hide the UMD builds.
const ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css; charset=utf-8' },
  'graphiql.min.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript; charset=utf-8' },
  'react.production.min.js': {
    pkg: 'react',
    file: 'umd/react.production.min.js',
    type: 'text/javascript; charset=utf-8',
  },
  'react-dom.production.min.js': {
    pkg: 'react-dom',
    file: 'umd/react-dom.production.min.js',
    type: 'text/javascript; charset=utf-8',
  },
};

const cache = new Map<string, Buffer>();

/** A static asset of the IDE by file name, or undefined if there is no such asset. */
export function ideAsset(name: string): { body: Buffer; type: string } | undefined {
  const asset = ASSETS[name];
  if (!asset) return undefined;
  let body = cache.get(name);
  if (!body) {
    body = readFileSync(join(dirname(require.resolve(`${asset.pkg}/package.json`)), asset.file));
    cache.set(name, body);
  }
  return { body, type: asset.type };
}

/** The GraphiQL page; assets are served under `${base}/ide/`. */
export function idePage(base: string): string {
  const a = `${base}/ide`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tollgate · GraphiQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${a}/graphiql.min.css">
<style>html,body,#graphiql{height:100%;margin:0}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="${a}/react.production.min.js"></script>
<script src="${a}/react-dom.production.min.js"></script>
<script src="${a}/graphiql.min.js"></script>
<script>
  // Credentials go in the Headers tab below the editor, e.g. {"Authorization": "Bearer <token>"}
  // (npm run token prints one). They are kept in this browser's local storage only.
  // Subscriptions run over graphql-transport-ws on the same path (the graphql-ws client bundled in
  // graphiql.min.js); GraphiQL sends the Headers tab as the connection_init payload, which the gateway
  // reads credentials from (browsers cannot set headers on a WebSocket).
  const subscriptionUrl = new URL(${JSON.stringify(base)}, location.href).href.replace(/^http/, 'ws');
  const fetcher = GraphiQL.createFetcher({ url: ${JSON.stringify(base)}, subscriptionUrl });
  const defaultQuery = '# Tollgate: one GraphQL API over every subgraph.\\n# Add an Authorization header in the Headers tab below if your gateway requires one.\\n\\n{\\n  topProducts(first: 3) {\\n    upc\\n    name\\n    price\\n    inStock\\n    reviews { body author { username } }\\n  }\\n}\\n';
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    }),
  );
</script>
</body>
</html>`;
}
