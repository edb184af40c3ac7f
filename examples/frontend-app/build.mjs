// Builds the static site into dist/: a page that shows which backend this frontend
// uses (read from amplify_outputs.json, which `ampx generate outputs` wrote in the
// build's preBuild phase), and the file itself, as a client library would load it.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const outputs = JSON.parse(readFileSync('amplify_outputs.json', 'utf8'));
const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const models = Object.keys(outputs.data?.model_introspection?.models ?? {});
const rows = [
  ['Outputs version', outputs.version],
  ['User pool', outputs.auth?.user_pool_id],
  ['Data API', outputs.data?.url],
  ['Models', models.join(', ') || 'none'],
  ['Storage bucket', outputs.storage?.bucket_name],
];

mkdirSync('dist', { recursive: true });
copyFileSync('amplify_outputs.json', 'dist/amplify_outputs.json');
writeFileSync(
  'dist/index.html',
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Frontend demo</title></head>
<body>
<h1>Frontend demo</h1>
<p>A frontend-only app: its build ran <code>npx ampx generate outputs --app-id ${escape(process.env.BACKEND_APP_ID ?? '')} --branch main</code> and uses that backend.</p>
<table>
${rows.map(([name, value]) => `<tr><th>${escape(name)}</th><td>${escape(value ?? '')}</td></tr>`).join('\n')}
</table>
<p><a href="amplify_outputs.json">amplify_outputs.json</a></p>
</body>
</html>
`,
);
console.log(`dist/ written: the backend of app ${process.env.BACKEND_APP_ID} (${models.length} models)`);
