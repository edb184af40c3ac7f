// Rendered once at build time and served as prerendered HTML.
export const dynamic = 'force-static';

export const metadata = { title: 'About: Next.js on the Amplify console' };

export default function About() {
  return (
    <main id="static-page">
      <h1>About</h1>
      <p>
        This page is static: Next.js rendered it when the app was built, and every request gets
        the same HTML.
      </p>
      <p>
        <a href="/">Back to the server-rendered page</a>
      </p>
    </main>
  );
}
