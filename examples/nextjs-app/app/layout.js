export const metadata = {
  title: 'Next.js on the Amplify console',
  description: 'A server-rendered Next.js demo hosted by the self-hosted Amplify console',
};

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', margin: '2rem', lineHeight: 1.5 }}>
        {children}
      </body>
    </html>
  );
}
