import fs from 'node:fs';
import path from 'node:path';

// Rendered on the server for every request: nothing here is cached at build time.
export const dynamic = 'force-dynamic';

// The build copies amplify_outputs.json into the compute bundle (.next/standalone),
// which is the standalone server's working folder, so read it from there at run time.
function readOutputs() {
  const file = path.join(process.cwd(), 'amplify_outputs.json');
  try {
    return { outputs: JSON.parse(fs.readFileSync(file, 'utf8')) };
  } catch (err) {
    if (err.code === 'ENOENT') return { outputs: null };
    return { outputs: null, error: `${file}: ${err.message}` };
  }
}

export default function Home() {
  const now = new Date().toISOString();
  const { outputs, error } = readOutputs();
  const branch = process.env.AWS_BRANCH;

  return (
    <main>
      <img src="/logo.svg" alt="" width={48} height={48} />
      <h1>Next.js on the Amplify console</h1>
      <p>
        Rendered on the server at <time id="request-time">{now}</time>
      </p>
      {branch ? (
        <p>
          Branch: <code id="branch">{branch}</code>
        </p>
      ) : null}

      <h2>Backend outputs</h2>
      {outputs ? (
        <ul>
          <li>
            amplify_outputs.json version: <code id="outputs-version">{String(outputs.version)}</code>
          </li>
          {outputs.data?.url ? (
            <li>
              Data API: <code id="data-url">{outputs.data.url}</code>
            </li>
          ) : null}
          {outputs.auth?.user_pool_id ? (
            <li>
              User pool: <code id="user-pool">{outputs.auth.user_pool_id}</code>
            </li>
          ) : null}
        </ul>
      ) : (
        <p id="outputs-missing">
          {error
            ? `Could not read amplify_outputs.json: ${error}`
            : 'No amplify_outputs.json in the server\'s folder: the build copies it there when the backend phase wrote one.'}
        </p>
      )}

      <h2>More</h2>
      <ul>
        <li>
          <a href="/about">/about</a>: a static page, rendered at build time
        </li>
        <li>
          <a href="/api/time">/api/time</a>: a route handler returning JSON
        </li>
        <li>
          <a href="/stream">/stream</a>: a streamed text response, three chunks 400 ms apart
        </li>
      </ul>
    </main>
  );
}
